"""Prometheus metrics, one registry per running bot (so tests can run several side by side)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.ports import PostResult

LATENESS_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
API_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """The bot's counters and histograms."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.nudges_posted = Counter(
            "stretchbot_nudges_posted", "Nudges posted", ["platform", "kind"], registry=r
        )
        self.posts_failed = Counter(
            "stretchbot_posts_failed",
            "Posts that failed for good",
            ["platform", "reason"],
            registry=r,
        )
        self.nudges_skipped = Counter(
            "stretchbot_nudges_skipped", "Scheduled slots not posted", ["reason"], registry=r
        )
        self.reminders_slid = Counter(
            "stretchbot_reminders_slid",
            "Personal reminders moved past their person's busy time",
            registry=r,
        )
        self.breaks_logged = Counter(
            "stretchbot_breaks_logged", "Breaks logged", ["platform"], registry=r
        )
        self.breaks_undone = Counter(
            "stretchbot_breaks_undone", "Breaks taken back", ["platform"], registry=r
        )
        self.boards_posted = Counter(
            "stretchbot_boards_posted", "Leaderboards posted", ["kind"], registry=r
        )
        self.slot_lateness = Histogram(
            "stretchbot_slot_lateness_seconds",
            "Seconds from a slot's time to its nudge being posted",
            buckets=LATENESS_BUCKETS,
            registry=r,
        )
        self.api_latency = Histogram(
            "stretchbot_chat_api_seconds",
            "Chat platform API call latency (retries included)",
            ["platform", "method"],
            buckets=API_BUCKETS,
            registry=r,
        )
        self.rate_limited = Counter(
            "stretchbot_chat_api_rate_limited",
            "429 answers from the chat platform",
            ["platform", "method"],
            registry=r,
        )

    def post_failed(self, platform: str, result: PostResult) -> None:
        """Count a post that failed for good, by the platform's reason."""
        reason = result.detail.split(":", 1)[0] if result.detail else str(result.error)
        self.posts_failed.labels(platform, reason).inc()

    def render(self) -> bytes:
        """The registry in Prometheus text format."""
        return bytes(generate_latest(self.registry))
