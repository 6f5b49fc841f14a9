"""Microsoft Teams adapter on the Microsoft 365 Agents SDK.

`app.build_teams` builds the SDK application and the Teams `Chat` port; `TeamsBot.mount` adds
`POST /api/messages` to the bot's web server. Listeners: `messages` (commands), `events`
(install, removal, reactions), `actions` (the nudge's Done button).
"""
