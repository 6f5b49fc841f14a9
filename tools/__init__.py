"""Developer tools that are not shipped with the bot (e.g. `python -m tools.draw_exercises`)."""
