//! sessiontrail's own secret formats: what a session's text carries that gitleaks, made to
//! scan source files, has no rule for or matches too narrowly: private keys cut short,
//! passwords in URLs (an empty user too), `Authorization` and key headers, passwords given
//! to command-line tools (`curl -u`, `mysql -pX`, `--password X`...), `.netrc` and
//! `.pgpass` lines, and values assigned to secret-looking names, passwords with symbols and
//! quoted passphrases included.

/// How a value is checked beyond its regex.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Check {
    /// The regex is enough.
    None,
    /// A password or token given as a value: not a placeholder, a reference or a flag.
    Value,
    /// A user and password pair (`user:pass`): the password is checked as a value and must
    /// not repeat the user or be a number.
    UserPassword,
    /// A URL's password read to the last `@` of its word: only when the reading to the
    /// first `@` is no password ([`Check::UserPassword`]), when it reads as random, and
    /// never a URL inside it.
    UserPasswordLast,
    /// A value assigned to a name: the name must really name a secret, then the value is
    /// checked as a value; a quoted value may be a passphrase with spaces.
    Assigned,
    /// A bearer token in prose: random-looking, with a digit.
    Bearer,
    /// The rest of a .env line after a password's name.
    EnvLine,
    /// A whole word after a password's name and `=` or `: ` (`ADMIN_PASSWORD=a}b?c`).
    Wide,
    /// The value of a tool's password option: whatever it is, unless a placeholder or a
    /// reference.
    Flag,
    /// A field that can only hold a password (a .pgpass line's last, a .netrc line's
    /// `password`): whatever it is, unless a placeholder, a reference or one lowercase
    /// word (which would be redacted wherever else it is written: `postgres`).
    Field,
    /// A value in a field beside one that names it (`{"name": N, "value": V}`).
    NamedValue,
    /// A token a few words after a word that names a secret.
    Near,
}

/// One format.
pub(crate) struct Own {
    pub kind: &'static str,
    pub regex: &'static str,
    /// Capture groups that may hold the secret: the first that matched (0: the whole match).
    pub groups: &'static [usize],
    /// Lowercase; one must occur for the regex to run (empty: always runs).
    pub keywords: &'static [&'static str],
    pub check: Check,
    /// Where spans of several formats overlap, the lowest wins the kind.
    pub priority: u8,
}

/// A quoted value, or a bare one up to the next space (a shell word).
macro_rules! word {
    () => {
        r#"(?:"([^"\n]{1,256})"|'([^'\n]{1,256})'|([^\s"'`]{1,256}))"#
    };
}

/// A host glued after a password (`pw@db.example.com/x`, a line pasted into a URL): a
/// lowercase name with a top-level domain, an IPv4 address. Mixed case after an `@` is
/// the password's own (`MN<{@EVmO.Kq3iAe/^Oe>c`).
macro_rules! glued_host {
    () => {
        r#"(?-i:@(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}|\d{1,3}(?:\.\d{1,3}){3}|localhost)(?:[/:?#]\S*)?)"#
    };
}

/// A URL's scheme and user, up to the `:` before its password (group 1: the user).
macro_rules! url_user {
    () => {
        r#"(?i)\b[a-z][a-z0-9+.-]{1,20}://([^\s:@/'"`<>\\]{0,128}):"#
    };
}

/// The `@`, host and port after a URL's password, and what may end them.
macro_rules! url_host {
    () => {
        r#"@[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::\d{1,5})?(?:[/?#\s'"`\\),;>\]]|$)"#
    };
}

/// A quoted or bare value, as shell and config files write one.
macro_rules! value {
    () => {
        r#"(?:"([^"\n]{1,256})"|'([^'\n]{1,256})'|([^\s"'`|;&<>(){}\[\],]{1,256}))"#
    };
}

pub(crate) const OWN: &[Own] = &[
    Own {
        kind: "private-key",
        regex: r"(?s)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|\z)",
        groups: &[0],
        keywords: &["private key"],
        check: Check::None,
        priority: 0,
    },
    Own {
        kind: "putty-private-key",
        regex: r"(?s)PuTTY-User-Key-File-\d+:.*?Private-Lines:\s*\d+\r?\n(?:[A-Za-z0-9+/=]+(?:\r?\n|\z))+(?:Private-MAC:\s*[0-9a-fA-F]+)?",
        groups: &[0],
        keywords: &["putty-user-key-file"],
        check: Check::None,
        priority: 0,
    },
    Own {
        kind: "password-in-url",
        // Without `/` or `?`, the password runs to the last `@` a host ends after (a raw
        // `@` in it is still it, even before something like a host: `p(6@UR]s*@h`); with
        // one, to the first (a query's `?to=a@b.com` or a path's `/x@h` is no password;
        // the next format reads to the last when the first gives no password);
        // no `//` in it: a URL inside a URL's user info (`https://u:mongodb://a:pw@db/x@h`)
        // is found on its own.
        regex: concat!(
            url_user!(),
            r#"([^\s/?'"`]{1,256}|(?:[^\s/'"`]|/[^\s/'"`]){1,256}?)"#,
            url_host!()
        ),
        groups: &[2],
        keywords: &["://"],
        check: Check::UserPassword,
        priority: 1,
    },
    // A password with a raw `@` and then a `/`, `?` or `#` (`u:BRd@H/r8z&7t@host`): read
    // to the first `@` it is too short or no password at all, so it runs to the last `@`
    // of the word that a host follows.
    Own {
        kind: "password-in-url",
        regex: concat!(url_user!(), r#"([^\s'"`]{1,256})"#, url_host!()),
        groups: &[2],
        keywords: &["://"],
        check: Check::UserPasswordLast,
        priority: 1,
    },
    // A token as a URL's user (`https://<token>@github.com`, a Sentry DSN's key).
    Own {
        kind: "url-user-token",
        regex: r#"(?i)\b[a-z][a-z0-9+.-]{1,20}://([A-Za-z0-9_-]{20,256})@[^\s/?#@'"]"#,
        groups: &[1],
        keywords: &["://"],
        check: Check::Bearer,
        priority: 1,
    },
    Own {
        kind: "authorization-header",
        // No `\b` before the name: glued to a flag, it is still a header (`-pAuthorization:`).
        regex: r#"(?i)(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:bearer|basic|token|digest|apikey|api-key|sso-key|key|negotiate|dpop|hmac|splunk|ssws|klaviyo-api-key)\s+([A-Za-z0-9._~+/=:-]{6,})"#,
        groups: &[1],
        keywords: &["authorization"],
        check: Check::None,
        priority: 1,
    },
    // A quoted header holds its credentials to the closing quote, spaces and all.
    Own {
        kind: "authorization-header",
        regex: r#"(?i)(?:'(?:proxy-)?authorization\s*:\s*(?:bearer|basic|token|digest|apikey|api-key|key|negotiate)\s+([^'\n]{6,256})'|"(?:proxy-)?authorization\s*:\s*(?:bearer|basic|token|digest|apikey|api-key|key|negotiate)\s+([^"\n]{6,256})")"#,
        groups: &[1, 2],
        keywords: &["authorization"],
        check: Check::Value,
        priority: 1,
    },
    Own {
        kind: "secret-header",
        regex: r#"(?i)(?:^|[\s'"{,(])(x-[a-z0-9-]*(?:key|token|secret|auth|password|signature|session)[a-z0-9-]*|api-?key|private-token|apitoken|x-auth|cookie)["']?\s*:\s*["']?([A-Za-z0-9._~+/=:%-]{8,})"#,
        groups: &[2],
        keywords: &[
            "x-",
            "api-key",
            "apikey",
            "private-token",
            "apitoken",
            "cookie",
        ],
        check: Check::Value,
        priority: 1,
    },
    Own {
        kind: "bearer-token",
        regex: r"(?i)\bbearer\s+([A-Za-z0-9._~+/-]{16,}={0,2})",
        groups: &[1],
        keywords: &["bearer"],
        check: Check::Bearer,
        priority: 2,
    },
    // `curl -u user:pass`, `--user=user:pass`, `--proxy-user`.
    Own {
        kind: "cli-password",
        regex: r#"(?:^|[\s;&|(])(?:-u|-U|--user|--proxy-user|--basic-auth|--auth)(?:\s+|=)?["']?([^\s:"'$]{0,128}):([^\s"']{1,256})"#,
        groups: &[2],
        keywords: &["-u", "--user", "--proxy-user", "--basic-auth", "--auth"],
        check: Check::UserPassword,
        priority: 1,
    },
    // `--password X`, `--token=X`, `-passphrase X`...
    Own {
        kind: "cli-password",
        regex: concat!(
            r"(?i)(?:^|[\s;&|(])--?(?:password|passwd|passphrase|pass|pw|secret|token|auth-token|access-token|api-key|apikey|api-token|client-secret|secret-key|secret-access-key|private-key|key-password|store-?pass(?:word)?|key-?pass|keystore-password|db-password|admin-password|root-password|bot-token|webhook-secret|oauth-token|github-token|gitlab-token|npm-token|registry-password|docker-password|vault-token|sudo-password)(?:=|\s+)",
            word!()
        ),
        groups: &[1, 2, 3],
        keywords: &[
            "pass",
            "pw",
            "secret",
            "token",
            "api-key",
            "apikey",
            "private-key",
        ],
        check: Check::Value,
        priority: 1,
    },
    // `mysql -pX`, `docker login -p X`, `sshpass -p X`, `redis-cli -a X`, `7z -pX`,
    // `zip -P X`, `mongosh -p X`, `openssl -passin pass:X`.
    Own {
        kind: "cli-password",
        regex: concat!(
            r"\b(?:(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlsh|mariadb|mariadb-dump|7z|7za|rar)\b[^\n;|&]*?\s-p|(?:(?:docker|podman|buildah|skopeo|helm)\s+(?:registry\s+)?login|sshpass|mongo|mongosh|mongodump|mongorestore)\b[^\n;|&]*?\s-p\s*|(?:zip|unzip)\b[^\n;|&]*?\s-P\s*|redis-cli\b[^\n;|&]*?\s-a\s+|\s-pass(?:in|out)\s+pass:|\s-k\s+pass:)",
            word!()
        ),
        groups: &[1, 2, 3],
        keywords: &[
            "mysql",
            "mariadb",
            "7z",
            "rar",
            "login",
            "sshpass",
            "mongo",
            "zip",
            "redis-cli",
            "pass:",
        ],
        check: Check::Flag,
        priority: 1,
    },
    // The last `-p` of a command too: a rejected first one (`mysql -pmysql -uroot -pX`)
    // hides the one the shell passes last, which the client uses.
    Own {
        kind: "cli-password",
        regex: concat!(
            // With a space too: `-p 'X'` makes mysql prompt, but X was meant as the
            // password (a database name is a plain word, which the check leaves).
            r"\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mysqlsh|mariadb|mariadb-dump|7z|7za|rar)\b[^\n;|&]*\s-p\s*",
            word!()
        ),
        groups: &[1, 2, 3],
        keywords: &["mysql", "mariadb", "7z", "rar"],
        check: Check::Flag,
        priority: 1,
    },
    Own {
        kind: "netrc-password",
        // A host glued after it (`password pw@host/path`, a netrc line pasted into a URL)
        // is not part of it.
        regex: concat!(
            r#"(?i)\b(?:machine\s+\S+|default)(?:\s+(?:login|account|port)\s+\S+)*\s+password\s+([^\s"'`]+?)"#,
            "(?:",
            glued_host!(),
            r#")?(?:[\s"'`]|$)"#
        ),
        groups: &[1],
        keywords: &["password"],
        check: Check::Field,
        priority: 1,
    },
    // `host:port:database:user:password`.
    Own {
        kind: "pgpass-password",
        // Also as a URL's password (`https://u:host:5432:db:user:pw@host/`).
        regex: concat!(
            r#"(?:^|[\s'"=/(\[:])[A-Za-z0-9_.*-]+:(?:\d{1,5}|\*):[^:\s'"]+:[^:\s'"]+:([^\s'"]+?)"#,
            "(?:",
            glued_host!(),
            r#")?(?:[\s'"]|$)"#
        ),
        groups: &[1],
        keywords: &[
            ":*:", ":5432:", ":3306:", ":5433:", ":6432:", ":26257:", ":1521:",
        ],
        check: Check::Field,
        priority: 1,
    },
    // `{"name": "DB_PASSWORD", "value": "..."}`: the name in one field, the value in the next.
    Own {
        kind: "secret-assignment",
        regex: r#"(?i)"(?:key|name|id|variable|env)"\s*:\s*"([A-Za-z0-9_.-]{3,80})"(?:\s*,\s*"[A-Za-z0-9_.-]{1,40}"\s*:\s*(?:"[^"\n]{0,200}"|[A-Za-z0-9_.-]{1,40}))*\s*,\s*"(?:value|secret|data|val)"\s*:\s*"([^"\n]{1,1024})""#,
        groups: &[2],
        keywords: &["value", "secret", "data", "val"],
        check: Check::NamedValue,
        priority: 3,
    },
    // A secret a few words after its name: `the DD_API_KEY is 3f9a...`, `Rotate X (v)`.
    Own {
        kind: "secret-near-name",
        regex: r#"(?i)(\b(?:public|publishable|host|ssh|gpg|pgp)[ _-])?\b([A-Za-z0-9_.-]*(?:key|token|secret|password|passwd|passphrase|credentials?|apikey|dsn)[A-Za-z0-9_]*)\b([^\n\r=:"'`]{0,24}?)[ \t(\[]['"`]?([A-Za-z0-9+/_.~-]{16,256}={0,2})"#,
        groups: &[4],
        keywords: &[
            "key",
            "token",
            "secret",
            "passw",
            "passphrase",
            "credential",
            "dsn",
        ],
        check: Check::Near,
        priority: 3,
    },
    // A password's name, `=` or `: `, and the whole word after it, symbols and all.
    Own {
        kind: "secret-assignment",
        regex: r#"(?i)(?:^|[^a-z0-9_.-])([a-z0-9_.-]*(?:passw(?:or)?d|passphrase|pwd|secret|token)[a-z0-9_]*)(=|:[ \t]+)([^\s"'`]{6,256})"#,
        groups: &[3],
        keywords: &["passw", "passphrase", "pwd", "secret", "token"],
        check: Check::Wide,
        priority: 3,
    },
    // A .env line: the value runs to the end of the line (`PGPASSWORD=velvet mango 42`).
    Own {
        kind: "secret-assignment",
        regex: r#"(?m)(?:^|[;&|"(])[ \t]*(?:export[ \t]+)?([A-Z][A-Z0-9_]*)(=)([^"'\s#=][^\n"'#=;&|]*[^\s"'#=;&|])[ \t]*\r?(?:$|["';&|])"#,
        groups: &[3],
        keywords: &[
            "pass",
            "pwd",
            "secret",
            "token",
            "key",
            "credential",
            "auth",
        ],
        check: Check::EnvLine,
        priority: 3,
    },
    // `NAME=value`, `"name": "value"`, `name => 'value'`, with a secret-looking name.
    Own {
        kind: "secret-assignment",
        regex: concat!(
            r#"(?i)(?:^|[^a-z0-9_.-])([a-z0-9_.-]*?(?:secret|token|passwd|password|passphrase|pass|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|auth[_-]?key|session[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key|key)[a-z0-9_.-]*)(["']?\s*(?:=|:=|:|=>|\?=)\s*)"#,
            value!()
        ),
        groups: &[3, 4, 5],
        keywords: &[
            "secret",
            "token",
            "passwd",
            "password",
            "passphrase",
            "pass",
            "pwd",
            "key",
            "credential",
        ],
        check: Check::Assigned,
        priority: 3,
    },
];

/// Issuers' token formats gitleaks has no rule for (or only one that needs a keyword
/// nearby): `(kind, regex, keyword)`. The prefix is specific enough on its own.
pub(crate) const PREFIXED: &[(&str, &str, &str)] = &[
    // gitleaks' rule drops a key whose characters repeat by chance (entropy under 3).
    (
        "aws-access-token",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
        "akia|asia|abia|acca|a3t",
    ),
    // gitleaks' rule wants no key character after the token, so misses it before a `/`
    // (a path segment); the last part is 43 characters.
    (
        "sentry-org-token",
        r"\bsntrys_eyJ[A-Za-z0-9+/]{10,400}={0,2}_[A-Za-z0-9+/]{43}",
        "sntrys_",
    ),
    // A Sentry DSN's key: 32 hex digits, which alone would read as an MD5 digest.
    (
        "sentry-dsn",
        r"(?i)\bhttps?://([a-f0-9]{32})(?::[a-f0-9]{32})?@[a-z0-9.-]*\bsentry\.io\b",
        "sentry.io",
    ),
    ("supabase-access-token", r"\bsbp_[a-f0-9]{40}\b", "sbp_"),
    (
        "supabase-secret-key",
        r"\bsb_secret_[A-Za-z0-9_-]{20,}",
        "sb_secret_",
    ),
    ("buildkite-api-token", r"\bbkua_[a-f0-9]{40}\b", "bkua_"),
    (
        "dockerhub-access-token",
        r"\bdckr_(?:pat|oat)_[A-Za-z0-9_-]{20,}",
        "dckr_",
    ),
    ("netlify-personal-token", r"\bnfp_[A-Za-z0-9]{36,}", "nfp_"),
    ("groq-api-key", r"\bgsk_[A-Za-z0-9]{48,}", "gsk_"),
    ("xai-api-key", r"\bxai-[A-Za-z0-9]{60,}", "xai-"),
    ("replicate-api-token", r"\br8_[A-Za-z0-9]{30,}", "r8_"),
    (
        "stripe-webhook-secret",
        r"\bwhsec_[A-Za-z0-9+/=]{24,}",
        "whsec_",
    ),
    (
        "square-token",
        r"\bsq0(?:atp|csp|idp)-[A-Za-z0-9_-]{22,}",
        "sq0",
    ),
    ("nuget-api-key", r"\boy2[a-z0-9]{43}\b", "oy2"),
    (
        "circleci-personal-token",
        r"\bCCIPAT_[A-Za-z0-9_]{30,}",
        "ccipat_",
    ),
    (
        "bitbucket-app-password",
        r"\bATBB[A-Za-z0-9_=.-]{28,}",
        "atbb",
    ),
    (
        "atlassian-api-token",
        r"\bATATT3[A-Za-z0-9_=.-]{40,}",
        "atatt3",
    ),
    ("heroku-api-key-v2", r"\bHRKU-[A-Za-z0-9_-]{30,}", "hrku-"),
    (
        "doppler-token",
        r"\bdp\.(?:st|ct|sa|scim|audit)\.[A-Za-z0-9_.-]{30,}",
        "dp.",
    ),
    ("posthog-api-key", r"\bph[cx]_[A-Za-z0-9]{40,}", "ph"),
    ("sentry-token", r"\bsntr[ysu]_[A-Za-z0-9+/=_-]{40,}", "sntr"),
    ("grafana-cloud-token", r"\bglc_[A-Za-z0-9+/=]{32,}", "glc_"),
    ("notion-token", r"\bntn_[A-Za-z0-9]{40,}", "ntn_"),
    ("tavily-api-key", r"\btvly-[A-Za-z0-9_-]{30,}", "tvly-"),
    ("cerebras-api-key", r"\bcsk-[a-z0-9]{40,}", "csk-"),
    ("openrouter-api-key", r"\bsk-or-v1-[a-f0-9]{64}\b", "sk-or-"),
    ("deepseek-or-generic-sk", r"\bsk-[a-f0-9]{32}\b", "sk-"),
    (
        "langsmith-api-key",
        r"\blsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}\b",
        "lsv2_",
    ),
    (
        "discord-webhook-url",
        r"discord(?:app)?\.com/api/webhooks/\d{5,30}/[A-Za-z0-9_-]{40,}",
        "discord",
    ),
    (
        "gitlab-token",
        r"\bgl(?:pat|dt|rt|ptt|cbt|ft|imt|agent|oas|soat|ffct)-[A-Za-z0-9_-]{20,}",
        "gl",
    ),
    (
        "google-oauth-client-secret",
        r"\bGOCSPX-[A-Za-z0-9_-]{28}",
        "gocspx-",
    ),
    (
        "azure-storage-key",
        r"(?i)\bAccountKey=([A-Za-z0-9+/]{86}==)",
        "accountkey=",
    ),
    (
        "azure-sas-signature",
        r"(?i)[?&]sig=([A-Za-z0-9%+/=]{40,})",
        "sig=",
    ),
    (
        "hashicorp-vault-token",
        r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}",
        "hv",
    ),
    (
        "age-secret-key",
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        "age-secret-key-1",
    ),
    (
        "pypi-upload-token",
        r"pypi-AgE[A-Za-z0-9_-]{50,}",
        "pypi-age",
    ),
    (
        "anthropic-api-key",
        r"\bsk-ant-[a-z]{2,8}\d{2}-[A-Za-z0-9_-]{20,}",
        "sk-ant-",
    ),
    (
        "openai-api-key",
        r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}",
        "sk-",
    ),
    ("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}", "hf_"),
    ("npm-token", r"(?i)\bnpm_[a-z0-9]{36}\b", "npm_"),
    ("slack-token", r"\bxox[abposre]-[A-Za-z0-9-]{10,}", "xox"),
    (
        "slack-webhook-url",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}",
        "hooks.slack.com",
    ),
    (
        "telegram-bot-token",
        r"\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b",
        ":aa",
    ),
    (
        "shopify-token",
        r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
        "shp",
    ),
    ("databricks-token", r"\bdapi[a-f0-9]{32}(?:-\d)?\b", "dapi"),
    ("digitalocean-pat", r"\bdo[por]_v1_[a-f0-9]{64}\b", "_v1_"),
    ("linear-api-key", r"\blin_api_[A-Za-z0-9]{40}\b", "lin_api_"),
    (
        "new-relic-key",
        r"\bNR(?:AK|AA|II|JS)-[A-Za-z0-9]{19,32}\b",
        "nr",
    ),
    ("pulumi-token", r"\bpul-[a-f0-9]{40}\b", "pul-"),
    ("twilio-key", r"\b(?:SK|AC)[0-9a-fA-F]{32}\b", "sk|ac"),
    (
        "azure-ad-client-secret",
        r"(?:^|[^A-Za-z0-9_~.])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.-]|$)",
        "q~",
    ),
    (
        "planetscale-token",
        r"\bpscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,64}",
        "pscale_",
    ),
    (
        "discord-bot-token",
        r"\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40}\b",
        ".",
    ),
    ("gcp-api-key", r"\bAIza[A-Za-z0-9_-]{35}", "aiza"),
    (
        "mapbox-secret-token",
        r"\bsk\.eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}",
        "sk.eyj",
    ),
    (
        "braintree-access-token",
        r"access_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32}",
        "access_token$",
    ),
    (
        "airtable-personal-access-token",
        r"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}\b",
        "pat",
    ),
    (
        "django-secret-key",
        r#"django-insecure-[^\s'"`]{30,}"#,
        "django-insecure-",
    ),
    ("mailgun-key", r"\bkey-[0-9a-f]{32}\b", "key-"),
    (
        "sendgrid-token",
        r"\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}",
        "sg.",
    ),
    (
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        "eyj",
    ),
];

/// Whether `v` (`lower`: the same in lowercase) reads as a placeholder: one of
/// [`PLACEHOLDERS`] in any case, or a run of `x` in one case (`xxxx`, `XXXX`; `XXxx` is
/// as likely in a random password as any four letters).
fn placeholder(v: &str, lower: &str) -> bool {
    v.contains("xxxx") || v.contains("XXXX") || PLACEHOLDERS.iter().any(|p| lower.contains(p))
}

/// The longest value an own format's group takes: the `{1,256}` of `word!` and of the
/// user-and-password formats.
pub(crate) const VALUE_CAP: usize = 256;

/// Words that make a value a placeholder, not a secret (lowercase substrings).
const PLACEHOLDERS: [&str; 18] = [
    "****",
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "your_",
    "your-",
    "yourpassword",
    "yourtoken",
    "redacted",
    "dummy",
    "replace_",
    "replace-",
    "insert_",
    "insert-",
    "not-a-real",
    "notreal",
];

/// Shapes of a template or a reference rather than a value: `<token>`, `${X}`, `{{ x }}`,
/// `%VAR%`, `$VAR`, `$(cmd)`, `%s`.
fn template(v: &str) -> bool {
    let b = v.as_bytes();
    (v.starts_with('<') && v.ends_with('>'))
        || v.starts_with("${")
        || v.starts_with("$(")
        || v.starts_with("{{")
        || (v.starts_with('%') && v.ends_with('%'))
        || (b[0] == b'$'
            && b.get(1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_'))
        || v == "%s"
}

/// Values that are words for a secret, not one.
const WORDS: [&str; 22] = [
    "password",
    "passwd",
    "pass",
    "secret",
    "token",
    "apikey",
    "api_key",
    "none",
    "null",
    "nil",
    "undefined",
    "true",
    "false",
    "empty",
    "required",
    "optional",
    "string",
    "hidden",
    "masked",
    "unset",
    "default",
    "example",
];

/// The last word of a name that says it holds something about a secret, not the secret.
const NOT_THE_SECRET: &[&str] = &[
    "id",
    "ids",
    "name",
    "names",
    "type",
    "types",
    "url",
    "uri",
    "endpoint",
    "length",
    "len",
    "size",
    "file",
    "files",
    "path",
    "dir",
    "env",
    "header",
    "field",
    "prompt",
    "count",
    "ttl",
    "expiry",
    "expires",
    "expiration",
    "at",
    "format",
    "policy",
    "mode",
    "version",
    "hint",
    "label",
    "placeholder",
    "regex",
    "pattern",
    "prefix",
    "suffix",
    "scope",
    "scopes",
    "kind",
    "method",
    "limit",
    "timeout",
    "enabled",
    "required",
    "reset",
    "strength",
    "min",
    "max",
    "algorithm",
    "rotation",
    "provider",
    "service",
    "location",
    "usage",
    "tokens",
    "ref",
    "var",
    "hasher",
    "backend",
    "strategy",
    "manager",
    "store",
    "storage",
    "engine",
    "driver",
    "class",
    "handler",
    "plugin",
    "encoder",
    "module",
    "audience",
    "issuer",
    "source",
    "command",
    "template",
    "identifier",
    "email",
    "link",
    "subject",
    "message",
    "text",
    "title",
    "interval",
    "milliseconds",
    "seconds",
    "ms",
    "duration",
    "delay",
    "retries",
    "attempts",
    "flow",
    "page",
    "form",
    "input",
    "button",
    "route",
    "event",
    "events",
    "error",
    "errors",
    "status",
    "state",
];

/// Whether `value` is a password or token rather than a placeholder, a reference to one
/// (`$VAR`, `${{ secrets.X }}`, `process.env.X`, a call), a flag, a path or a number.
pub(crate) fn is_value(value: &str) -> bool {
    let v = value.trim_end_matches(['.', ',', ';', ':']);
    // A flag, or what a JSON escape left (`\n...`).
    if v.len() < 6 || v.starts_with('-') || v.starts_with('\\') {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if placeholder(v, &lower) || WORDS.contains(&lower.as_str()) || template(v) || code_name(v) {
        return false;
    }
    // `@file` (curl's data from a file), code.
    let first = v.as_bytes()[0];
    let plain = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b'-');
    if (first == b'@' && v.bytes().skip(1).all(plain)) || matches!(first, b'(' | b'[' | b'{') {
        return false;
    }
    if lower.starts_with("process.env")
        || lower.starts_with("os.environ")
        || lower.starts_with("env.")
        || lower.starts_with("secrets.")
        || lower.starts_with("arn:")
        || lower.starts_with("enc[")
        || lower.starts_with("vault:")
        || lower.contains("getenv")
        || lower.contains("://")
    {
        return false;
    }
    // A call names a value: `token = request.headers.get(x)`, `get_token()`; a `()` after
    // a symbol (`v$()@3s`) is part of a password.
    let call = v.match_indices("()").any(|(i, _)| {
        i > 0 && (v.as_bytes()[i - 1].is_ascii_alphanumeric() || v.as_bytes()[i - 1] == b'_')
    });
    if call
        || (v.ends_with(')')
            && v.find('(').is_some_and(|i| {
                i > 0
                    && v[..i]
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
            }))
    {
        return false;
    }
    let b = v.as_bytes();
    // Numbers (`300_000`, `1.5`), templates with placeholders (`projects/{p}/secrets`).
    if b.iter()
        .all(|c| c.is_ascii_digit() || matches!(c, b'_' | b'.' | b','))
    {
        return false;
    }
    if has_placeholder_braces(v) {
        return false;
    }
    // Slugs of words (`password-reset-email-template-v2`) are names, not secrets.
    let hexish = v
        .bytes()
        .all(|c| c.is_ascii_hexdigit() || matches!(c, b'-' | b'_' | b'.'));
    // Letter pairs that read like words by chance (`XAst0%25.mOmpaL`) are no slug's when
    // the whole, URL escapes decoded, surprises a model of text.
    if !hexish
        && v.contains(['-', '_', '.'])
        && super::entropy::wordy_text(v)
        && !super::trigrams::reads_random(
            &percent_encoding::percent_decode_str(v).decode_utf8_lossy(),
        )
    {
        return false;
    }
    // Identifiers and dotted names: letters and `_ . -` only, cased as words are (the
    // random letters of a key are not: `aYeAwcKqxTcrvIavXkQE`, nor `ZXQOMiIjLvUPzo`,
    // whose letters pair as no words do). Random letters of both cases pass as cased
    // half the time: a long name must also pair as words do (`cEcyPGxYkekjaswpiBzT`).
    if b.iter()
        .all(|c| c.is_ascii_alphabetic() || matches!(c, b'_' | b'.' | b'-'))
        && ((v.len() < 16 && (v.len() < 10 || super::entropy::bigram_z(b) >= 1.0))
            || (super::entropy::word_cased(b)
                && (v.len() < 20 || super::entropy::bigram_z(b) >= 1.0))
            || super::entropy::wordy_text(v))
    {
        return false;
    }
    // Paths (`osc7/osc51/osc99`, `./secrets.json`): only a random one is a secret.
    if v.starts_with('/') || v.starts_with("./") || v.starts_with("../") || v.starts_with("~/") {
        return false;
    }
    let pathish = v.bytes().all(plain);
    if pathish && v.contains('/') && !super::entropy::is_random(v.trim_end_matches('=')) {
        return false;
    }
    true
}

/// A name in code, as a type annotation or an expression gives it (`key: _bindgen_ty_3`,
/// `token: Token![>]`, `key: PayloadU16`, `Arc::new`, `proc_macro2::Punct`): one found as a
/// secret would be redacted everywhere else it is named.
fn code_name(v: &str) -> bool {
    let ident = |s: &str| {
        !s.is_empty()
            && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
            && !s.as_bytes()[0].is_ascii_digit()
    };
    // `a::b::C`, `::Punct`, a macro `Token!`.
    if v.starts_with(':') || (v.contains("::") && v.split("::").all(|p| p.is_empty() || ident(p))) {
        return true;
    }
    // A macro or a generic type: `Token!`, `Token![>]`, `braced!(content`, `Option<T>`.
    let head = v.split(['!', '<']).next().unwrap_or("");
    let rest = &v[head.len()..];
    // Macros are named (`vec!`, `Token!`): one letter before `!(` is a password's.
    let named = ident(head)
        && head.len() >= 3
        && !head.bytes().any(|c| c.is_ascii_digit())
        && super::entropy::word_cased(head.as_bytes());
    if named
        && (rest == "!"
            || rest.starts_with("![")
            || rest.starts_with("!(")
            || rest.starts_with("!{")
            || (rest.starts_with('<') && rest.ends_with('>')))
    {
        return true;
    }
    if !ident(v) {
        return false;
    }
    // snake_case of words and short numbers: `_bindgen_ty_3`, `sha256_digest`.
    let parts: Vec<&str> = v.split('_').filter(|p| !p.is_empty()).collect();
    let snake = v.contains('_')
        && parts.iter().all(|p| {
            p.bytes().all(|c| c.is_ascii_lowercase())
                || (p.len() <= 4 && p.bytes().all(|c| c.is_ascii_digit()))
                || super::entropy::word_cased(p.as_bytes())
                    && p.bytes().all(|c| c.is_ascii_alphanumeric())
                    && p.len() <= 6
                    && !p.bytes().any(|c| c.is_ascii_lowercase())
        })
        && parts
            .iter()
            .any(|p| p.len() >= 3 && p.bytes().all(|c| c.is_ascii_lowercase()));
    // CamelCase words with a short number at the end: `PayloadU16` (a capital word and
    // digits, `Summer2024`, may still be a password; random cases `L4cx4uJoNl` are a key).
    let b = v.as_bytes();
    let stem = v.trim_end_matches(|c: char| c.is_ascii_digit());
    let words = stem
        .match_indices(|c: char| c.is_ascii_uppercase())
        .map(|(i, _)| {
            stem[i + 1..]
                .bytes()
                .take_while(u8::is_ascii_lowercase)
                .count()
        })
        .collect::<Vec<_>>();
    let camel = words.len() >= 2
        && v.len() - stem.len() <= 3
        && stem.bytes().all(|c| c.is_ascii_alphabetic())
        && stem.as_bytes()[0].is_ascii_uppercase()
        && words[..words.len() - 1].iter().all(|&n| n >= 2)
        && super::entropy::bigram_z(b) >= 2.0;
    snake || camel
}

/// `{name}` placeholders (`projects/{project}/secrets/{secret}`), in a value otherwise
/// made of names and separators (`Ck]Y{Lm}T.l,i&2z` is a password).
fn has_placeholder_braces(v: &str) -> bool {
    let template = v.bytes().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'_' | b'.' | b'/' | b'-' | b':' | b'{' | b'}' | b' ' | b'=' | b'?' | b'&'
            )
    });
    template
        && v.split('{').skip(1).any(|rest| {
            rest.split_once('}').is_some_and(|(inside, _)| {
                !inside.is_empty()
                    && inside
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b' '))
            })
        })
}

/// Whether `name` (the left side of an assignment) names a secret.
pub(crate) fn names_a_secret(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if words.len() == 1 && (last == "pwd" || last == "key" || last == "pass") {
        // The working directory, a map's key, a pass number.
        return false;
    }
    if NOT_THE_SECRET.contains(&last.as_str()) {
        return false;
    }
    let joined: String = words.concat();
    words.iter().enumerate().any(|(i, w)| {
        matches!(
            w.as_str(),
            "secret"
                | "secrets"
                | "token"
                | "passwd"
                | "password"
                | "passphrase"
                | "pwd"
                | "pass"
                | "apikey"
                | "credential"
                | "credentials"
                | "privatekey"
                | "accesskey"
                | "secretkey"
                | "authkey"
                | "sessionkey"
                | "signingkey"
                | "masterkey"
        ) || (w == "key" && i > 0)
    }) || joined.contains("password")
        || joined.contains("secret")
}

/// A name that can only hold a password or a token.
fn strong_name(name: &str) -> bool {
    let joined = words(name).concat();
    // `PGPASSWORD`, `MYSQL_PWD`, `REDISPASS`: one word.
    ["passw", "passphrase", "secret", "token"]
        .iter()
        .any(|w| joined.contains(w))
        || joined.ends_with("pwd")
        || joined.ends_with("pass")
        || words(name).iter().any(|w| {
            matches!(
                w.as_str(),
                "password" | "passwd" | "pass" | "pwd" | "passphrase" | "secret" | "token"
            )
        })
}

/// Whatever follows a password option, unless a placeholder, a reference or a flag.
fn flag_value(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    v.len() >= 6
        && !v.starts_with(['-', '$', '\\', '<'])
        && !template(v)
        && !WORDS.contains(&lower.as_str())
        && !placeholder(v, &lower)
}

/// `v` without closing brackets and punctuation it does not open (`(pw)`, `pw.`); the
/// trimmed length says whether anything was cut.
pub(crate) fn trim_unbalanced(v: &str) -> &str {
    let mut end = v.len();
    let b = v.as_bytes();
    while end > 0 {
        let c = b[end - 1];
        let open = match c {
            b')' => Some(b'('),
            b']' => Some(b'['),
            b'}' => Some(b'{'),
            _ => None,
        };
        let unbalanced = open.is_some_and(|o| !b[..end - 1].contains(&o));
        if unbalanced || matches!(c, b'.' | b',' | b';' | b':') {
            end -= 1;
        } else {
            break;
        }
    }
    &v[..end]
}

/// A single word of letters that is not a placeholder.
fn plain_word(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    v.len() >= 6
        && v.bytes().all(|b| b.is_ascii_alphabetic())
        && !WORDS.contains(&lower.as_str())
        && !placeholder(v, &lower)
}

/// The words of a name: split at `_ - .` and at camelCase humps, lowercased.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if matches!(c, '_' | '-' | '.') {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A quoted passphrase (`PGPASSWORD="velvet mango quartz 42"`): a few plain words, not a
/// sentence or a message.
pub(crate) fn is_passphrase(value: &str) -> bool {
    const STOP: [&str; 26] = [
        "your", "the", "enter", "here", "please", "a", "an", "to", "of", "for", "is", "not",
        "with", "and", "or", "be", "must", "should", "will", "this", "that", "if", "in", "on",
        "you", "my",
    ];
    let words: Vec<&str> = value.split_whitespace().collect();
    value.len() >= 8
        && (2..=8).contains(&words.len())
        && !value.ends_with(['.', '?', '!', ':'])
        && !words
            .iter()
            .any(|w| STOP.contains(&w.to_ascii_lowercase().as_str()))
        && !words
            .iter()
            .all(|w| w.chars().next().is_some_and(char::is_uppercase))
        && !value.starts_with('$')
        && !value.contains("${")
        && !value.contains("{{")
        && !template(value)
        && !placeholder(value, &value.to_ascii_lowercase())
}

/// At least 3 bits a character, or, under that, the floor all but one in a hundred
/// thousand random strings of its charset and length reach: 32 random hex digits fall
/// under 3 bits about once in three hundred draws (seeds 1260 and 1276 of the
/// planted-secret test), never under 2.86.
fn near_enough_entropy(secret: &str) -> bool {
    use super::entropy::{Charset, charset, entropy, threshold};
    let h = entropy(secret);
    h >= 3.0
        || charset(secret.as_bytes()).is_some_and(|cs| {
            matches!(cs, Charset::Hex | Charset::Base32 | Charset::OneCase)
                && h >= threshold(cs, secret.len())
        })
}

/// The checks of `check` on a secret found by an own format. `caps` holds the match.
pub(crate) fn passes(check: Check, caps: &super::pattern::Groups<'_>, secret: &str) -> bool {
    match check {
        Check::None => true,
        Check::Value => is_value(secret) || (secret.contains(' ') && is_passphrase(secret)),
        Check::UserPassword => {
            let user = caps.get(1).unwrap_or("");
            (is_value(secret) || plain_word(secret))
                && secret != user
                && !(secret.len() <= 8 && secret.bytes().all(|b| b.is_ascii_digit()))
        }
        Check::UserPasswordLast => {
            let first = secret.split('@').next().unwrap_or("");
            // A URL's path and query read as words (`pw@localhost/db?to=a`); a password
            // surprises a model of text at every character.
            !secret.contains("//")
                && !passes(Check::UserPassword, caps, first)
                && passes(Check::UserPassword, caps, secret)
                && super::trigrams::reads_random(secret)
        }
        Check::Flag => is_value(secret) || flag_value(secret),
        Check::Field => {
            is_value(secret)
                || (flag_value(secret)
                    && !secret
                        .bytes()
                        .all(|c| c.is_ascii_lowercase() || matches!(c, b'_' | b'-')))
        }
        Check::Wide => {
            let name = caps.get(1).unwrap_or("");
            let v = trim_unbalanced(secret);
            names_a_secret(name)
                && strong_name(name)
                && v.len() == secret.len()
                // A symbol or a digit: `csrfToken` names a variable.
                && (is_value(v)
                    || (flag_value(v)
                        && !code_name(v)
                        && v.bytes().any(|c| !c.is_ascii_alphabetic() && c != b'_')))
        }
        Check::EnvLine => {
            let name = caps.get(1).unwrap_or("");
            names_a_secret(name)
                && (if secret.contains(' ') {
                    strong_name(name) && is_passphrase(secret)
                } else {
                    is_value(secret) || (strong_name(name) && plain_word(secret))
                })
        }
        Check::Assigned => {
            let name = caps.get(1).unwrap_or("");
            let sep = caps.get(2).unwrap_or("");
            if !names_a_secret(name) {
                return false;
            }
            if secret.contains(' ') {
                // Spaces only in a quoted value: `NAME="a b c"`, or any quoted value of a
                // name that can only hold a password (`password = "a b c"`).
                let quoted = caps.get(5).is_none();
                let env_style = sep.trim_start_matches(['"', '\'']) == "=";
                return quoted && (env_style || strong_name(name)) && is_passphrase(secret);
            }
            if secret.eq_ignore_ascii_case(name) {
                return false;
            }
            // In a shell or .env assignment to a password's name, a plain word is a
            // password too (`PGPASSWORD=velvet`).
            let env_style = sep == "=" && name.bytes().all(|b| !b.is_ascii_lowercase());
            is_value(secret) || (env_style && strong_name(name) && plain_word(secret))
        }
        Check::NamedValue => {
            let name = caps.get(1).unwrap_or("");
            names_a_secret(name) && (is_value(secret) || is_passphrase(secret))
        }
        Check::Near => {
            if caps.get(1).is_some() {
                // A public key, a host key: meant to be shared.
                return false;
            }
            let name = caps.get(2).unwrap_or("").to_ascii_lowercase();
            let gap = caps.get(3).unwrap_or("").to_ascii_lowercase();
            if gap.contains("-----") || name.contains("public") {
                return false;
            }
            const WORDS: [&str; 12] = [
                "key",
                "token",
                "secret",
                "password",
                "passwd",
                "passphrase",
                "credential",
                "credentials",
                "apikey",
                "pat",
                "dsn",
                "keys",
            ];
            const DIGESTS: [&str; 12] = [
                "sha",
                "hash",
                "digest",
                "commit",
                "checksum",
                "fingerprint",
                " id",
                "sum",
                "version",
                "rev",
                "uuid",
                "name",
            ];
            (WORDS.contains(&name.as_str()) || names_a_secret(&name))
                && !DIGESTS.iter().any(|d| gap.contains(d))
                && is_value(secret)
                && secret.bytes().any(|b| b.is_ascii_alphabetic())
                && (secret.bytes().any(|b| b.is_ascii_digit())
                    || (secret.len() >= 20 && !super::entropy::word_cased(secret.as_bytes())))
                && near_enough_entropy(secret)
        }
        Check::Bearer => {
            is_value(secret)
                && secret.bytes().any(|b| b.is_ascii_digit())
                && super::entropy::entropy(secret) >= 3.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for yes in [
            "DB_PASSWORD",
            "PGPASSWORD",
            "apiKey",
            "client_secret",
            "STRIPE_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "auth_token",
            "db_pwd",
            "MYSQL_PASS",
            "x.secret",
        ] {
            assert!(names_a_secret(yes), "{yes}");
        }
        for no in [
            "pwd",
            "key",
            "token_type",
            "max_tokens",
            "password_length",
            "SECRET_NAME",
            "keyboard",
            "monkey",
            "bypass",
            "passes",
            "api_key_id",
        ] {
            assert!(!names_a_secret(no), "{no}");
        }
    }

    #[test]
    fn values() {
        for yes in [
            "hunter2Sunday9",
            "p@ss!w0rd#",
            "s3cr3t-value",
            "aB3/xY9+zQ1=",
        ] {
            assert!(is_value(yes), "{yes}");
        }
        for no in [
            "$DB_PASSWORD",
            "${{ secrets.X }}",
            "process.env.TOKEN",
            "request.headers.get(x)",
            "changeme123",
            "your-api-key-here",
            "<token>",
            "osc7/osc51/osc99",
            "/run/secrets/db",
            "12345678",
            "password",
            "--verbose",
            "abc",
        ] {
            assert!(!is_value(no), "{no}");
        }
        assert!(is_passphrase("velvet mango quartz 42"));
        assert!(!is_passphrase("Please enter your password"));
        assert!(!is_passphrase("Password Reset Link"));
    }
}
