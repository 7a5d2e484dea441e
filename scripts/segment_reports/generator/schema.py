"""The column model: which raw tables a source gets and their columns and types.

Every call table of one source kind shares an *envelope* (ids, context, times);
a table's file layout is the envelope followed by its *tail* (event name and
properties, page fields, traits, ...). Rows are written in layout order; the
database table gets only the layout columns that received a non-null value,
`id, received_at, uuid_ts` first and the rest sorted by name, as Segment's
loader creates them. Presence is tracked with one bit per layout position: the
envelope bits are shared by all tables of a kind, so a row's mask is the OR of
the masks of the pieces it was assembled from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WEB = "web"
MOBILE = "mobile"
KINDS = (WEB, MOBILE)

HEAD = ["id", "received_at", "uuid_ts"]
IDS = ["anonymous_id", "user_id"]
TIMES = ["original_timestamp", "sent_at", "timestamp"]

WEB_CONTEXT = [
    "context_ip",
    "context_library_name",
    "context_library_version",
    "context_locale",
    "context_user_agent",
]
WEB_PAGE_CONTEXT = [
    "context_page_path",
    "context_page_referrer",
    "context_page_search",
    "context_page_title",
    "context_page_url",
    "context_campaign_source",
    "context_campaign_medium",
    "context_campaign_name",
    "context_campaign_term",
    "context_campaign_content",
]
MOBILE_CONTEXT = [
    "context_app_build",
    "context_app_name",
    "context_app_namespace",
    "context_app_version",
    "context_device_id",
    "context_device_manufacturer",
    "context_device_model",
    "context_device_type",
    "context_ip",
    "context_library_name",
    "context_library_version",
    "context_locale",
    "context_network_carrier",
    "context_network_cellular",
    "context_network_wifi",
    "context_os_name",
    "context_os_version",
    "context_screen_density",
    "context_screen_height",
    "context_screen_width",
    "context_timezone",
]

ENVELOPE = {
    WEB: HEAD + IDS + WEB_CONTEXT + WEB_PAGE_CONTEXT + TIMES,
    MOBILE: HEAD + IDS + MOBILE_CONTEXT + TIMES,
}

ID_TYPE = "varchar(1024)"
TEXT, BIGINT, NUMERIC, BOOLEAN, TIMESTAMPTZ = (
    "text",
    "bigint",
    "numeric",
    "boolean",
    "timestamptz",
)
ENVELOPE_TYPES = {
    "id": ID_TYPE,
    "received_at": TIMESTAMPTZ,
    "uuid_ts": TIMESTAMPTZ,
    "original_timestamp": TIMESTAMPTZ,
    "sent_at": TIMESTAMPTZ,
    "timestamp": TIMESTAMPTZ,
    "context_network_cellular": BOOLEAN,
    "context_network_wifi": BOOLEAN,
    "context_screen_density": NUMERIC,
    "context_screen_height": BIGINT,
    "context_screen_width": BIGINT,
}

TRAITS = [
    ("name", TEXT),
    ("email", TEXT),
    ("plan", TEXT),
    ("company", TEXT),
    ("created_at", TIMESTAMPTZ),
    ("role", TEXT),
    ("deployments_count", BIGINT),
]
GROUP_TRAITS = [
    ("name", TEXT),
    ("industry", TEXT),
    ("employees", BIGINT),
    ("plan", TEXT),
]

# The property that starts being sent at the world's release date (the end of a
# schema's first batch), so a later batch adds the column with ALTER TABLE.
LATE_PROPERTY = ("deployments_new", "region")


@dataclass(frozen=True)
class EventSpec:
    """A track event: its table name (slug), the name the app sent, properties."""

    slug: str
    text: str
    props: tuple[tuple[str, str], ...]


def _events(kind: str) -> dict[str, EventSpec]:
    size = BIGINT if kind == WEB else NUMERIC  # type drift between sources
    common = [
        EventSpec("logged_in", "Logged In", (("method", TEXT),)),
        EventSpec(
            "deployments_new",
            "Deployments New",
            (
                ("deployment_name", TEXT),
                ("deployment_type", TEXT),
                ("size_gb", size),
                ("plan", TEXT),
                ("region", TEXT),
            ),
        ),
        EventSpec(
            "deployments_show",
            "Deployments Show",
            (("deployment_name", TEXT), ("deployment_type", TEXT)),
        ),
        EventSpec(
            "deployments_scale",
            "Deployments Scale",
            (
                ("deployment_name", TEXT),
                ("deployment_type", TEXT),
                ("from_size_gb", size),
                ("to_size_gb", size),
            ),
        ),
    ]
    if kind == WEB:
        specific = [
            EventSpec(
                "signed_up",
                "Signed Up",
                (("plan", TEXT), ("method", TEXT), ("referral_code", TEXT)),
            ),
            EventSpec(
                "backup_created",
                "Backup Created",
                (
                    ("deployment_name", TEXT),
                    ("backup_type", TEXT),
                    ("size_mb", BIGINT),
                    ("automatic", BOOLEAN),
                ),
            ),
            EventSpec(
                "invite_sent",
                "Invite Sent",
                (("invitee_email", TEXT), ("invitee_role", TEXT)),
            ),
            EventSpec(
                "invoice_downloaded",
                "Invoice Downloaded",
                (
                    ("invoice_id", TEXT),
                    ("amount_usd", NUMERIC),
                    ("invoice_date", TIMESTAMPTZ),
                ),
            ),
            # A table created with double quotes by an older loader: mixed case.
            EventSpec(
                "PlanUpgraded",
                "PlanUpgraded",
                (("from_plan", TEXT), ("to_plan", TEXT), ("mrr_usd", NUMERIC)),
            ),
            # A slug starting with a digit: the table name needs quoting.
            EventSpec("2fa_enabled", "2FA Enabled", (("method", TEXT),)),
            EventSpec(
                "docs_searched",
                "Docs Searched",
                (("query", TEXT), ("results_count", BIGINT)),
            ),
            EventSpec(
                "cta_clicked", "CTA Clicked", (("cta", TEXT), ("location", TEXT))
            ),
        ]
    else:
        specific = [
            EventSpec(
                "application_installed",
                "Application Installed",
                (("version", TEXT), ("build", TEXT)),
            ),
            EventSpec(
                "application_opened",
                "Application Opened",
                (("from_background", BOOLEAN), ("version", TEXT), ("build", TEXT)),
            ),
            EventSpec(
                "alert_acknowledged",
                "Alert Acknowledged",
                (("deployment_name", TEXT), ("alert_type", TEXT), ("severity", TEXT)),
            ),
        ]
    return {spec.slug: spec for spec in common + specific}


EVENTS = {kind: _events(kind) for kind in KINDS}


@dataclass
class TableSpec:
    """One raw table of one source kind: file layout, types, fixed bits."""

    name: str
    kind: str
    tail: list[tuple[str, str]]
    always: tuple[str, ...] = ()
    layout: list[str] = field(init=False)
    types: dict[str, str] = field(init=False)
    always_mask: int = field(init=False)
    tail_shift: int = field(init=False)

    def __post_init__(self) -> None:
        envelope = ENVELOPE[self.kind]
        self.layout = envelope + [name for name, _ in self.tail]
        self.types = {name: ENVELOPE_TYPES.get(name, TEXT) for name in envelope}
        self.types.update(dict(self.tail))
        self.tail_shift = len(envelope)
        fixed = [*HEAD, *TIMES, *self.always]
        self.always_mask = 0
        for name in fixed:
            self.always_mask |= 1 << self.layout.index(name)

    def tail_bit(self, position: int) -> int:
        return 1 << (self.tail_shift + position)

    def present(self, mask: int) -> list[str]:
        """Layout columns whose bit is set in `mask` (plus the always-present ones)."""
        mask |= self.always_mask
        return [name for i, name in enumerate(self.layout) if mask >> i & 1]


def envelope_bit(kind: str, column: str) -> int:
    return 1 << ENVELOPE[kind].index(column)


def table_specs(kind: str) -> dict[str, TableSpec]:
    """Every table a source of `kind` may get, by table name."""
    specs = {
        "tracks": TableSpec(
            "tracks",
            kind,
            [("event", TEXT), ("event_text", TEXT)],
            ("event", "event_text"),
        ),
        "identifies": TableSpec("identifies", kind, list(TRAITS)),
    }
    if kind == WEB:
        specs["pages"] = TableSpec(
            "pages",
            kind,
            [(c, TEXT) for c in ("name", "path", "referrer", "search", "title", "url")],
        )
        specs["groups"] = TableSpec(
            "groups", kind, [("group_id", TEXT), *GROUP_TRAITS], ("group_id",)
        )
        specs["aliases"] = TableSpec(
            "aliases", kind, [("previous_id", TEXT)], ("previous_id",)
        )
    else:
        specs["screens"] = TableSpec(
            "screens", kind, [("name", TEXT), ("deployment_name", TEXT)], ("name",)
        )
    for spec in EVENTS[kind].values():
        specs[spec.slug] = TableSpec(
            spec.slug,
            kind,
            [("event", TEXT), ("event_text", TEXT), *spec.props],
            ("event", "event_text"),
        )
    return specs


# Tables whose rows count as events (the --events budget).
EVENT_TABLES = ("tracks", "pages", "screens")
# Upserted tables: built from identifies/groups in SQL after the load.
UPSERTED = {"users": ("identifies", "user_id"), "accounts": ("groups", "group_id")}
