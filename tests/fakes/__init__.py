"""Test doubles that speak Slack's wire formats: a fake Web API / Socket Mode server and
builders for the signed requests Slack sends to the app."""

from __future__ import annotations

from tests.fakes.slack_api import Call, FakeChannel, FakeSlack, FakeUser, ResponseUrlPost

__all__ = ["Call", "FakeChannel", "FakeSlack", "FakeUser", "ResponseUrlPost"]
