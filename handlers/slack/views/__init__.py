"""Block Kit views (Home tab, modals): pure functions from core values to Slack's JSON, each
tested against Block Kit's documented limits."""
