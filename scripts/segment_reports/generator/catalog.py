"""The simulated product: HarborDB, a managed-database hosting service.

Static lists only (pages, referrers, campaigns, names, devices). Domains use the
reserved `.example` TLD and IP addresses the documentation ranges, so demo data
never points at a real site or person.
"""

from __future__ import annotations

MARKETING = "https://www.harbordb.example"
APP = "https://app.harbordb.example"
PRODUCT = "HarborDB"


def esc(value: str) -> str:
    """Escape a string for PostgreSQL's COPY text format."""
    return (
        value.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


# path, title, weight as a landing page, weight when browsing
MARKETING_PAGES = [
    ("/", f"{PRODUCT} - Managed RabbitMQ, PostgreSQL, Redis and more", 30, 8),
    ("/pricing", f"Pricing - {PRODUCT}", 8, 14),
    ("/docs", f"Documentation - {PRODUCT}", 6, 8),
    ("/docs/getting-started", f"Getting started - {PRODUCT} Docs", 5, 8),
    ("/docs/postgresql", f"PostgreSQL - {PRODUCT} Docs", 6, 6),
    ("/docs/redis", f"Redis - {PRODUCT} Docs", 4, 5),
    ("/docs/rabbitmq", f"RabbitMQ - {PRODUCT} Docs", 4, 5),
    ("/docs/mongodb", f"MongoDB - {PRODUCT} Docs", 2, 3),
    ("/docs/elasticsearch", f"Elasticsearch - {PRODUCT} Docs", 2, 3),
    ("/docs/backups", f"Backups and restores - {PRODUCT} Docs", 2, 4),
    ("/docs/scaling", f"Scaling a deployment - {PRODUCT} Docs", 2, 4),
    ("/docs/api", f"API reference - {PRODUCT} Docs", 2, 3),
    ("/blog", f"Blog - {PRODUCT}", 2, 3),
    (
        "/blog/postgres-16-is-here",
        f"PostgreSQL 16 is here: what's new - {PRODUCT} Blog",
        5,
        2,
    ),
    (
        "/blog/redis-persistence-explained",
        f"Redis persistence, explained - {PRODUCT} Blog",
        4,
        2,
    ),
    (
        "/blog/rabbitmq-quorum-queues",
        f"Why we moved to RabbitMQ quorum queues - {PRODUCT} Blog",
        3,
        1,
    ),
    ("/blog/zero-downtime-scaling", f"Zero-downtime scaling - {PRODUCT} Blog", 3, 1),
    (
        "/blog/backup-strategies",
        f"Backup strategies that survive 3 a.m. - {PRODUCT} Blog",
        2,
        1,
    ),
    ("/customers", f"Customers - {PRODUCT}", 1, 2),
    ("/security", f"Security and compliance - {PRODUCT}", 1, 2),
    ("/about", f"About us - {PRODUCT}", 1, 1),
    ("/contact", f"Contact sales - {PRODUCT}", 1, 1),
]

EXTERNAL_REFERRERS = [
    ("https://www.google.com/", 40),
    ("https://duckduckgo.com/", 6),
    ("https://www.bing.com/", 4),
    ("https://news.ycombinator.com/", 5),
    ("https://www.reddit.com/r/PostgreSQL/", 3),
    ("https://github.com/", 5),
    ("https://t.co/", 3),
    ("https://www.linkedin.com/", 3),
    ("https://stackoverflow.com/", 6),
    (None, 25),
]

# source, medium, name, term, content, weight
CAMPAIGNS = [
    ("google", "cpc", "brand_search", "harbordb", None, 4),
    ("google", "cpc", "generic_search", "managed postgres", None, 5),
    ("google", "cpc", "generic_search", "hosted redis", None, 3),
    ("google", "cpc", "generic_search", "rabbitmq as a service", "ad_b", 2),
    ("newsletter", "email", "2024_product_update", None, "header_link", 4),
    ("twitter", "social", "launch_week", None, None, 2),
    ("partner", "referral", "partner_program", None, "sidebar", 2),
    ("linkedin", "paid_social", "q3_enterprise", None, "video", 1),
]

# Where a person first came from, and how often they come back: each person has one
# origin, which brings most of their visits from the marketing site (a referrer, or
# an index into CAMPAIGNS) and scales their activity, so that retention differs by
# acquisition channel. (channel, referrer, campaign, weight, activity factor)
ORIGINS = [
    ("direct", None, None, 22, 1.15),
    ("organic_search", "https://www.google.com/", None, 28, 1.1),
    ("paid_search", "https://www.google.com/", 1, 12, 0.7),
    ("email", None, 4, 8, 1.45),
    ("organic_social", "https://news.ycombinator.com/", None, 9, 0.8),
    ("paid_social", "https://www.linkedin.com/", 7, 6, 0.5),
    ("referral", "https://stackoverflow.com/", None, 15, 1.0),
]

DOCS_QUERIES = [
    "replication",
    "connection string",
    "backup restore",
    "pgbouncer",
    "redis eviction policy",
    "rabbitmq tls",
    "scale down",
    "read replica",
    "max_connections",
    "pricing per gb",
    "terraform provider",
    "ip allowlist",
    "point in time recovery",
    "C:\\Program Files\\psql",
    "mongodb sharding",
]

CTAS = [
    ("Start free", "hero"),
    ("Start free", "pricing_table"),
    ("Talk to sales", "pricing_table"),
    ("Read the docs", "hero"),
    ("Try it free", "blog_footer"),
]

DEPLOYMENT_TYPES = [
    ("PostgreSQL", 40),
    ("Redis", 20),
    ("RabbitMQ", 15),
    ("MongoDB", 10),
    ("Elasticsearch", 7),
    ("MySQL", 5),
    ("Kafka", 3),
]
DEPLOYMENT_PREFIXES = [
    "orders",
    "users",
    "events",
    "cache",
    "queue",
    "search",
    "analytics",
    "billing",
    "sessions",
    "inventory",
    "payments",
    "logs",
    "jobs",
    "catalog",
]
DEPLOYMENT_SUFFIXES = ["prod", "staging", "dev", "eu", "us", "v2", "primary", "test"]
WEB_SIZES_GB = [1, 2, 5, 10, 25, 50, 100, 250]
MOBILE_SIZES_GB = ["0.5", "1.0", "2.5", "5.0", "10.0", "25.0", "50.0", "100.0"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"]
PLANS = ["free", "starter", "pro", "business"]
PLAN_MRR = {"free": "0", "starter": "29.00", "pro": "99.00", "business": "449.50"}
SIGNUP_METHODS = [("email", 6), ("github", 3), ("google", 3)]
LOGIN_METHODS = [("password", 6), ("github", 2), ("google", 2), ("sso", 1)]
ROLES = ["owner", "developer", "developer", "developer", "admin", "billing"]
TWO_FA_METHODS = ["totp", "totp", "webauthn", "sms"]
BACKUP_TYPES = ["manual", "manual", "pre_upgrade"]
ALERT_TYPES = [("disk_usage", "warning"), ("cpu", "warning"), ("down", "critical")]

FIRST_NAMES = [
    "Alice",
    "Bob",
    "Carla",
    "Deepak",
    "Emma",
    "Farid",
    "Grace",
    "Hiroshi",
    "Ines",
    "José",
    "Kwame",
    "Lena",
    "Mónica",
    "Noah",
    "Olivia",
    "Priya",
    "Quentin",
    "Rosa",
    "Søren",
    "Tomás",
    "Uma",
    "Viktor",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoë",
    "Łukasz",
    "Chloé",
    "Ngozi",
    "Mateo",
]
LAST_NAMES = [
    "Smith",
    "Müller",
    "García",
    "Nguyen",
    "O'Brien",
    "Kowalski",
    "Rossi",
    "Tanaka",
    "Okafor",
    "Andersen",
    "Silva",
    "Dubois",
    "Kim",
    "Patel",
    "Jensen",
    "van der Berg",
    "Ivanova",
    "Haddad",
    "Lopez",
    "Schmidt",
]
EMAIL_PROVIDERS = [
    "gmail.example",
    "outlook.example",
    "proton.example",
    "fastmail.example",
]

COMPANY_WORDS = [
    "North",
    "Blue",
    "Quantum",
    "Bright",
    "Iron",
    "Silver",
    "Pixel",
    "Cedar",
    "Harbor",
    "Nimbus",
    "Atlas",
    "Orbit",
    "Maple",
    "Cobalt",
    "Summit",
]
COMPANY_NOUNS = [
    "Logistics",
    "Analytics",
    "Labs",
    "Health",
    "Commerce",
    "Robotics",
    "Media",
    "Foods",
    "Games",
    "Finance",
    "Travel",
    "Energy",
]
COMPANY_SUFFIXES = ["", "", " Inc.", " GmbH", " Ltd", " & Co.", " SAS", " AB"]
INDUSTRIES = [
    "Software",
    "E-commerce",
    "Healthcare",
    "Financial services",
    "Media",
    "Gaming",
    "Logistics",
    "Education",
]

# UTC offset in hours, IANA zone, locale, weight
TIMEZONES = [
    (-8.0, "America/Los_Angeles", "en-US", 12),
    (-5.0, "America/New_York", "en-US", 20),
    (-3.0, "America/Sao_Paulo", "pt-BR", 5),
    (0.0, "Europe/London", "en-GB", 10),
    (1.0, "Europe/Berlin", "de-DE", 12),
    (1.0, "Europe/Paris", "fr-FR", 6),
    (2.0, "Europe/Helsinki", "fi-FI", 4),
    (5.5, "Asia/Kolkata", "en-IN", 10),
    (8.0, "Asia/Singapore", "en-SG", 8),
    (9.0, "Asia/Tokyo", "ja-JP", 5),
    (10.0, "Australia/Sydney", "en-AU", 4),
]

# Sessions start by local hour and weekday (Monday first); both are normalised.
HOUR_WEIGHTS = [
    0.2,
    0.12,
    0.08,
    0.06,
    0.06,
    0.1,
    0.25,
    0.5,
    0.9,
    1.2,
    1.3,
    1.3,
    1.1,
    1.2,
    1.3,
    1.3,
    1.2,
    1.0,
    0.8,
    0.7,
    0.6,
    0.55,
    0.45,
    0.3,
]
WEEKDAY_WEIGHTS = [1.15, 1.2, 1.2, 1.15, 1.05, 0.6, 0.65]

USER_AGENTS = [
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        30,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        25,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        12,
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 "
        "Firefox/125.0",
        10,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
        8,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        9,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
        6,
    ),
]
WEB_LIBRARY_VERSIONS = ["next-1.66.0", "next-1.67.0", "next-1.70.0"]
SERVER_LIBRARY = ("analytics-node", "6.2.0")
SERVER_IPS = ["192.0.2.10", "192.0.2.11"]

# platform, manufacturer, model, os name, os version, width, height, density
MOBILE_DEVICES = [
    ("ios", "Apple", "iPhone15,2", "iOS", "17.4.1", 1179, 2556, "3.0", 30),
    ("ios", "Apple", "iPhone14,5", "iOS", "17.3", 1170, 2532, "3.0", 20),
    ("ios", "Apple", "iPad13,18", "iPadOS", "17.4", 1640, 2360, "2.0", 6),
    ("android", "samsung", "SM-S911B", "Android", "14", 1080, 2340, "2.625", 18),
    ("android", "Google", "Pixel 8", "Android", "14", 1080, 2400, "2.625", 14),
    ("android", "OnePlus", "CPH2449", "Android", "13", 1240, 2772, "3.5", 6),
]
MOBILE_LIBRARIES = {
    "ios": ("analytics-ios", "4.1.8"),
    "android": ("analytics-android", "4.11.3"),
}
MOBILE_NAMESPACES = {"ios": "com.harbordb.ios", "android": "com.harbordb.android"}
CARRIERS = ["Verizon", "T-Mobile", "Vodafone", "Orange", "Telekom", "NTT DOCOMO", "Jio"]
SCREENS = [
    ("Deployments", 30),
    ("Deployment Detail", 35),
    ("Metrics", 15),
    ("Alerts", 10),
    ("Billing", 4),
    ("Settings", 6),
]
