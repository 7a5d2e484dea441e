"""The simulated population: people, their devices, their product history.

Everything about a person is a pure function of the world (seed, anchor time)
and the person's index, drawn from `random.Random` instances keyed by those
numbers, so a later batch sees exactly the same people. Activity is a rate of
sessions per day shaped by local hour and weekday; `expected_events` integrates
it over a window, which is how a first batch turns `--events` into a population
size and a later batch keeps a similar rate.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property
from random import Random

from . import catalog
from .catalog import esc
from .schema import WEB
from .timefmt import DAY, HOUR, MINUTE, WEEK

TAG_PERSON = 1
TAG_WEB_DEVICE = 2
TAG_MOBILE_DEVICE = 3
TAG_DEPLOYMENTS = 4
TAG_COMPANY = 5
TAG_WEEK = 6
TAG_FAULTS = 8
TAG_IDENTITY = 9
TAG_ORIGIN = 10


def key(*parts: int) -> int:
    """A 128-bit seed from any integers (their decimal text, hashed)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=16).digest()
    return int.from_bytes(digest, "big")


def hex_id(rng: Random, bits: int = 128) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def uuid_text(rng: Random, upper: bool = False) -> str:
    h = f"{rng.getrandbits(128):032X}" if upper else f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


class Picker:
    """Draws items in proportion to their weights with one `random()` call.

    The items are laid out in a table of `slots` entries (weights are rounded to
    1/slots), which is much faster than bisecting cumulative weights.
    """

    __slots__ = ("size", "table")

    def __init__(self, items: list, weights: list[float], slots: int = 4096) -> None:
        total = sum(weights)
        table: list = []
        running = 0.0
        for item, weight in zip(items, weights, strict=True):
            running += weight
            table.extend([item] * (round(running / total * slots) - len(table)))
        self.table = table
        self.size = len(table)

    def __call__(self, rng: Random):
        return self.table[int(rng.random() * self.size)]


def picker(pairs: list[tuple]) -> Picker:
    """A Picker over (item, ..., weight) tuples: the item is the first field."""
    return Picker([p[0] for p in pairs], [p[-1] for p in pairs])


# --- activity over the week ---------------------------------------------------------
# Weeks start on Monday, local time; 1970-01-01 was a Thursday.
_WEEK_OFFSET = 3 * DAY
_HOURLY = [
    catalog.WEEKDAY_WEIGHTS[h // 24] * catalog.HOUR_WEIGHTS[h % 24] for h in range(168)
]
_HOURLY = [w * 7 / sum(_HOURLY) for w in _HOURLY]  # a week holds 7 "days" of activity
_PREFIX = [0.0]
for _w in _HOURLY:
    _PREFIX.append(_PREFIX[-1] + _w)


def week_of(local_ms: int) -> int:
    return (local_ms + _WEEK_OFFSET) // WEEK


def week_start(week: int) -> int:
    """Local start (ms) of `week`."""
    return week * WEEK - _WEEK_OFFSET


def activity(local_ms: int) -> float:
    """Cumulative activity (in average days) from the epoch to `local_ms`."""
    weeks, offset = divmod(local_ms + _WEEK_OFFSET, WEEK)
    hour, rest = divmod(offset, HOUR)
    return weeks * 7 + _PREFIX[hour] + _HOURLY[hour] * rest / HOUR


def activity_inverse(value: float) -> int:
    """The local time at which `activity` reaches `value`."""
    weeks = math.floor(value / 7)
    rest = value - weeks * 7
    hour = min(bisect_right(_PREFIX, rest) - 1, 167)
    fraction = (rest - _PREFIX[hour]) / _HOURLY[hour]
    return weeks * WEEK - _WEEK_OFFSET + hour * HOUR + int(fraction * HOUR)


# --- rates (sessions per day, times the person's activity level) --------------------
VISITOR_SHARE = 0.35
VISITOR_RATE = 0.12
PRE_SIGNUP_RATE = 0.1
USER_RATE = 0.55
MOBILE_SHARE = 0.4
MOBILE_RATE = 0.45
SERVER_RATE = 0.05  # server-side events (scheduled backups) per day per user
APP_SHARE = 0.85  # share of a signed-up person's web sessions spent in the app
MEAN_MARKETING_EVENTS = 3.5
MEAN_APP_EVENTS = 9.0
MEAN_MOBILE_EVENTS = 6.0
MEAN_USER_EVENTS = APP_SHARE * MEAN_APP_EVENTS + (1 - APP_SHARE) * MEAN_MARKETING_EVENTS
# anchored sessions (deployments, upgrades, logins) per day per user, in events
ANCHOR_EVENTS_PER_DAY = 0.12
SIGNUP_EVENTS = 7.0
INSTALL_EVENTS = 5.0
DEPLOY_GAP_DAYS = 60.0
# users who never create a deployment, and those who take days to create the first
NO_DEPLOYMENT_SHARE = 0.3
SLOW_FIRST_DEPLOYMENT_SHARE = 0.25
UPGRADE_GAP_DAYS = 150.0


@dataclass(frozen=True)
class World:
    """The fixed parameters of a simulated population.

    `seed` is the seed of the schema's first batch, `anchor_ms` that batch's start:
    signup dates are spread around it. `release_ms` is when the late property
    (`deployments_new.region`) starts being sent: the end of the first batch.
    """

    seed: int
    anchor_ms: int
    population: int
    release_ms: int


@dataclass
class Core:
    """The draws calibration needs; `Person` continues the same random stream."""

    index: int
    is_user: bool
    act: float
    tz: int
    signup_ms: int
    has_mobile: bool
    install_ms: int
    origin: int  # index into catalog.ORIGINS


def draw_core(world: World, index: int) -> tuple[Core, Random]:
    rng = Random(key(TAG_PERSON, world.seed, world.anchor_ms, index))
    is_user = rng.random() >= VISITOR_SHARE
    act = min(8.0, rng.lognormvariate(-0.405, 0.9))
    tz = _PICK_TZ(rng)
    early, spread = rng.random(), rng.random()
    if early < 0.45:
        signup = world.anchor_ms - int((1 + 729 * spread) * DAY)
    else:
        signup = world.anchor_ms + int(720 * spread * DAY)
    has_mobile = is_user and rng.random() < MOBILE_SHARE
    install = signup + int(rng.expovariate(1 / 20) * DAY) + HOUR
    # its own stream, so the draws above stay what they were before origins existed
    origin = _PICK_ORIGIN(Random(key(TAG_ORIGIN, world.seed, world.anchor_ms, index)))
    act = min(8.0, act * catalog.ORIGINS[origin][4])
    core = Core(index, is_user, act, tz, signup, has_mobile, install, origin)
    return core, rng


_PICK_ORIGIN = Picker(
    list(range(len(catalog.ORIGINS))), [o[3] for o in catalog.ORIGINS]
)
_PICK_TZ = Picker(
    list(range(len(catalog.TIMEZONES))), [t[3] for t in catalog.TIMEZONES]
)


def tz_ms(tz: int) -> int:
    return int(catalog.TIMEZONES[tz][0] * HOUR)


def _between(tz: int, start: int, end: int) -> float:
    """Activity (in average days) between two UTC times for a person in `tz`."""
    if end <= start:
        return 0.0
    offset = tz_ms(tz)
    return activity(end + offset) - activity(start + offset)


def expected_events(core: Core, kind: str, start: int, end: int) -> float:
    """Expected counted events (tracks, pages, screens) in [start, end) for one kind."""
    if kind == WEB:
        if not core.is_user:
            return (
                VISITOR_RATE
                * core.act
                * MEAN_MARKETING_EVENTS
                * _between(core.tz, start, end)
            )
        before = _between(core.tz, start, min(end, core.signup_ms))
        after = _between(core.tz, max(start, core.signup_ms), end)
        expected = PRE_SIGNUP_RATE * core.act * MEAN_MARKETING_EVENTS * before
        expected += (
            USER_RATE * core.act * MEAN_USER_EVENTS
            + SERVER_RATE
            + ANCHOR_EVENTS_PER_DAY
        ) * after
        if start <= core.signup_ms < end:
            expected += SIGNUP_EVENTS
        return expected
    if not core.has_mobile:
        return 0.0
    after = _between(core.tz, max(start, core.install_ms), end)
    expected = (MOBILE_RATE * core.act * MEAN_MOBILE_EVENTS + 0.02) * after
    if start <= core.install_ms < end:
        expected += INSTALL_EVENTS
    return expected


# --- people ---------------------------------------------------------------------------
@dataclass
class WebDevice:
    anonymous_id: str
    context: str  # escaped context_ip .. context_user_agent (5 COPY fields)
    skew_ms: int
    login_ms: int | None  # when this person first logged in on it (None: never)


@dataclass
class MobileDevice:
    anonymous_id: str
    platform: str
    context_fixed: dict[str, str]
    skew_ms: int
    install_ms: int


@dataclass
class Deployment:
    created_ms: int
    name: str
    type: str
    size: int  # index into the size lists
    on_mobile: bool


@dataclass
class Company:
    group_id: str
    name: str
    industry: str
    employees: int
    domain: str


def company(world: World, index: int) -> Company:
    rng = Random(key(TAG_COMPANY, world.seed, world.anchor_ms, index))
    name = (
        rng.choice(catalog.COMPANY_WORDS)
        + rng.choice(catalog.COMPANY_NOUNS).lower()
        + rng.choice(catalog.COMPANY_SUFFIXES)
    )
    if rng.random() < 0.4:
        name = (
            rng.choice(catalog.COMPANY_WORDS) + " " + rng.choice(catalog.COMPANY_NOUNS)
        )
    domain = "".join(ch for ch in name.split(" ")[0].lower() if ch.isalnum())
    return Company(
        group_id="org_" + hex_id(rng, 48),
        name=name,
        industry=rng.choice(catalog.INDUSTRIES),
        employees=int(rng.lognormvariate(3.5, 1.3)) + 1,
        domain=f"{domain}{index}.example",
    )


def _ascii(text: str) -> str:
    table = str.maketrans(
        {"é": "e", "ó": "o", "ø": "o", "ö": "o", "ü": "u", "á": "a", "ë": "e", "Ł": "L"}
    )
    return "".join(ch for ch in text.translate(table) if ch.isalnum()).lower()


def skew(rng: Random) -> int:
    """Clock error of a device: mostly small, some minutes or hours off."""
    draw = rng.random()
    sign = 1 if rng.random() < 0.5 else -1
    if draw < 0.85:
        return int(rng.uniform(-1500, 1500))
    if draw < 0.97:
        return sign * int(rng.uniform(1, 45) * MINUTE)
    return sign * (rng.randint(1, 12) * HOUR + int(rng.uniform(-90, 90) * 1000))


class Person:
    """One person: identity, traits, devices and product history."""

    def __init__(self, world: World, index: int) -> None:
        core, rng = draw_core(world, index)
        self.world = world
        self.core = core
        self.index = index
        self.is_user = core.is_user
        self.act = core.act
        self.tz = core.tz
        self.origin = core.origin
        self.tz_ms = tz_ms(core.tz)
        self.signup_ms = core.signup_ms if core.is_user else None
        self.locale = catalog.TIMEZONES[core.tz][2]
        self.timezone = catalog.TIMEZONES[core.tz][1]
        self.user_id = "usr_" + hex_id(rng, 64)
        company_draw = rng.random()
        self.company_index = rng.randrange(index // 4 + 1)
        self.has_company = core.is_user and company_draw < 0.7
        change = rng.random()
        self.email_change_ms = (
            core.signup_ms + int(rng.uniform(20, 600) * DAY)
            if core.is_user and change < 0.08
            else None
        )
        legacy = rng.random()
        migrate = rng.uniform(-60, 150)
        self.legacy_id = None
        self.migrate_ms = None
        if (
            core.is_user
            and legacy < 0.06
            and core.signup_ms < world.anchor_ms - 30 * DAY
        ):
            self.legacy_id = str(100_000 + index)
            self.migrate_ms = max(
                world.anchor_ms + int(migrate * DAY), core.signup_ms + 30 * DAY
            )
        self.old_style_alias = rng.random() < 0.3
        # plan upgrades: free -> starter -> pro -> business
        self.plan_changes: list[tuple[int, str, str]] = []
        moment = core.signup_ms
        for step in range(3):
            moment += int(rng.expovariate(1 / UPGRADE_GAP_DAYS) * DAY) + HOUR
            if rng.random() < 0.45:
                break
            self.plan_changes.append(
                (moment, catalog.PLANS[step], catalog.PLANS[step + 1])
            )
        # web devices: primary, maybe more, maybe one shared with someone else
        extra = rng.random()
        self.web_slots: list[tuple[int, int, int | None]] = [(index, 0, self.signup_ms)]
        for k in (1, 2):
            if extra < (0.45 if k == 1 else 0.15):
                login = (
                    core.signup_ms + int(rng.expovariate(1 / 40) * DAY) + HOUR
                    if core.is_user
                    else None
                )
                self.web_slots.append((index, k, login))
        shared = rng.random()
        if core.is_user and index > 0 and shared < 0.05:
            partner = rng.randrange(index)
            login = core.signup_ms + int(rng.expovariate(1 / 20) * DAY) + HOUR
            self.web_slots.append((partner, 0, login))
        self.mobile_slots: list[int] = []
        if core.has_mobile:
            self.mobile_slots.append(core.install_ms)
            if rng.random() < 0.1:
                self.mobile_slots.append(
                    core.install_ms + int(rng.expovariate(1 / 60) * DAY) + HOUR
                )

    # --- identity and traits over time ---------------------------------------------
    @cached_property
    def _identity(self) -> dict[str, str | None]:
        """Names and preferences: drawn only for people who show up in a batch."""
        world = self.world
        rng = Random(key(TAG_IDENTITY, world.seed, world.anchor_ms, self.index))
        first = rng.choice(catalog.FIRST_NAMES)
        last = rng.choice(catalog.LAST_NAMES)
        provider = rng.choice(catalog.EMAIL_PROVIDERS)
        number = rng.randrange(100)
        return {
            "first": first,
            "last": last,
            "personal_email": f"{_ascii(first)}.{_ascii(last)}{number}@{provider}",
            "role": rng.choice(catalog.ROLES),
            "signup_method": _PICK_SIGNUP(rng),
            "login_method": _PICK_LOGIN(rng),
            "referral_code": "ref_" + hex_id(rng, 24) if rng.random() < 0.12 else None,
        }

    @property
    def name(self) -> str:
        return f"{self._identity['first']} {self._identity['last']}"

    @property
    def personal_email(self) -> str:
        return self._identity["personal_email"]

    @property
    def role(self) -> str:
        return self._identity["role"]

    @property
    def signup_method(self) -> str:
        return self._identity["signup_method"]

    @property
    def login_method(self) -> str:
        return self._identity["login_method"]

    @property
    def referral_code(self) -> str | None:
        return self._identity["referral_code"]

    def user_id_at(self, moment: int) -> str:
        if self.legacy_id is not None and moment < self.migrate_ms:
            return self.legacy_id
        return self.user_id

    @cached_property
    def company(self) -> Company | None:
        return company(self.world, self.company_index) if self.has_company else None

    @cached_property
    def work_email(self) -> str:
        first, last = self._identity["first"], self._identity["last"]
        domain = self.company.domain if self.company else "mail.example"
        return f"{_ascii(first)[:1]}{_ascii(last)}@{domain}"

    def email_at(self, moment: int) -> str:
        primary = self.work_email if self.company else self.personal_email
        if self.email_change_ms is not None and moment >= self.email_change_ms:
            return self.personal_email if self.company else self.work_email
        return primary

    def plan_at(self, moment: int) -> str:
        plan = catalog.PLANS[0]
        for changed, _, new in self.plan_changes:
            if changed <= moment:
                plan = new
        return plan

    # --- deployments -----------------------------------------------------------------
    def deployments_until(self, limit: int) -> list[Deployment]:
        """Deployments created before `limit` (the same prefix whatever the limit)."""
        if not self.is_user:
            return []
        cached = getattr(self, "_deployments", None)
        if cached is not None and self._deployments_limit >= limit:
            return [d for d in cached if d.created_ms < limit]
        world = self.world
        rng = Random(key(TAG_DEPLOYMENTS, world.seed, world.anchor_ms, self.index))
        found: list[Deployment] = []
        names: set[str] = set()
        draw = rng.random()
        first_days = 8.0 if draw < SLOW_FIRST_DEPLOYMENT_SHARE else 0.3
        moment = self.signup_ms + int(rng.expovariate(1 / first_days) * DAY)
        moment += 10 * MINUTE
        if draw >= 1 - NO_DEPLOYMENT_SHARE:
            moment = limit  # never deploys
        gap = DEPLOY_GAP_DAYS / math.sqrt(self.act)
        while moment < limit:
            name = rng.choice(catalog.DEPLOYMENT_PREFIXES) + "-"
            name += rng.choice(catalog.DEPLOYMENT_SUFFIXES)
            if name in names:
                name += f"-{len(found) + 1}"
            names.add(name)
            found.append(
                Deployment(
                    created_ms=moment,
                    name=esc(name),
                    type=_PICK_DEPLOYMENT_TYPE(rng),
                    size=min(int(rng.expovariate(0.6)), 7),
                    on_mobile=bool(self.mobile_slots) and rng.random() < 0.2,
                )
            )
            moment += int(rng.expovariate(1 / gap) * DAY) + MINUTE
        self._deployments = found
        self._deployments_limit = limit
        return found

    # --- devices, per source ----------------------------------------------------------
    def web_device(self, source_key: int, slot: int) -> WebDevice:
        owner, k, login = self.web_slots[slot]
        core = self.core if owner == self.index else None
        return web_device(self.world, source_key, owner, k, login, core)

    def mobile_devices(self, source_key: int) -> list[MobileDevice]:
        return [
            mobile_device(self.world, source_key, self, k, install)
            for k, install in enumerate(self.mobile_slots)
        ]


_PICK_SIGNUP = picker(catalog.SIGNUP_METHODS)
_PICK_LOGIN = picker(catalog.LOGIN_METHODS)
_PICK_DEPLOYMENT_TYPE = picker(catalog.DEPLOYMENT_TYPES)
_PICK_USER_AGENT = picker([(esc(ua), w) for ua, w in catalog.USER_AGENTS])
_PICK_MOBILE = Picker(catalog.MOBILE_DEVICES, [d[-1] for d in catalog.MOBILE_DEVICES])


def _ip(rng: Random) -> str:
    if rng.random() < 0.15:
        return f"2001:db8:{rng.randrange(65536):x}:{rng.randrange(65536):x}::1"
    prefix = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
    return f"{prefix}.{rng.randrange(1, 255)}"


def web_device(
    world: World,
    source_key: int,
    owner: int,
    k: int,
    login: int | None,
    owner_core: Core | None = None,
) -> WebDevice:
    """Device `k` of person `owner` in one source (shared devices reuse it)."""
    rng = Random(key(TAG_WEB_DEVICE, world.seed, world.anchor_ms, source_key, owner, k))
    if owner_core is None:
        owner_core, _ = draw_core(world, owner)
    locale = catalog.TIMEZONES[owner_core.tz][2]
    anonymous_id = uuid_text(rng)
    ua = _PICK_USER_AGENT(rng)
    library_version = rng.choice(catalog.WEB_LIBRARY_VERSIONS)
    context = f"{_ip(rng)}\tanalytics.js\t{library_version}\t{locale}\t{ua}"
    return WebDevice(anonymous_id, context, skew(rng), login)


def mobile_device(
    world: World, source_key: int, person: Person, k: int, install: int
) -> MobileDevice:
    rng = Random(
        key(TAG_MOBILE_DEVICE, world.seed, world.anchor_ms, source_key, person.index, k)
    )
    model = _PICK_MOBILE(rng)
    platform, manufacturer, name, os_name, os_version, width, height, density, _ = model
    anonymous_id = uuid_text(rng, upper=True)
    device_id = uuid_text(rng, upper=True) if platform == "ios" else hex_id(rng, 64)
    library, library_version = catalog.MOBILE_LIBRARIES[platform]
    fixed = {
        "namespace": catalog.MOBILE_NAMESPACES[platform],
        "device_id": device_id,
        "manufacturer": manufacturer,
        "model": name,
        "type": platform,
        "ip": _ip(rng),
        "library": library,
        "library_version": library_version,
        "locale": person.locale,
        "carrier": rng.choice(catalog.CARRIERS),
        "os_name": os_name,
        "os_version": os_version,
        "density": density,
        "height": str(height),
        "width": str(width),
        "timezone": person.timezone,
    }
    return MobileDevice(anonymous_id, platform, fixed, skew(rng), install)


def app_version(moment: int) -> tuple[str, str]:
    """The mobile app release current at `moment`: a release train every 3 weeks."""
    train = moment // (21 * DAY)
    return f"3.{train % 100}.0", str(train)
