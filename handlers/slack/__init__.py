"""Slack adapter on Bolt: `app.build_slack` builds the Chat port and registers every listener."""
