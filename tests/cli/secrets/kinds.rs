//! Fresh secrets of real-world kinds, each in the shape its issuer uses (the shapes follow
//! gitleaks' rules, `crates/policy/gitleaks/gitleaks.toml`, and the issuers' documentation).
//! Nothing secret-shaped is committed: every value is drawn when the test runs.

/// A seeded generator (splitmix64 to spread the seed, xorshift64* to draw).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    /// `n` characters of `alphabet`.
    pub fn s(&mut self, alphabet: &str, n: usize) -> String {
        let a = alphabet.as_bytes();
        (0..n).map(|_| a[self.below(a.len())] as char).collect()
    }
    /// Between `lo` and `hi` characters of `alphabet`.
    pub fn sn(&mut self, alphabet: &str, lo: usize, hi: usize) -> String {
        let n = self.range(lo, hi);
        self.s(alphabet, n)
    }
    pub fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

pub const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
pub const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
pub const DIGITS: &str = "0123456789";
pub const HEX: &str = "0123456789abcdef";
pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const LOWNUM: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
pub const UPNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
pub const WORDDASH: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const BECH32: &str = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
const SYMBOLS: &str =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*()-_=+[]{};:,.<>?/~|";

/// One planted secret: how it is written, and what of it must never come out.
#[derive(Clone, Debug)]
pub struct Secret {
    pub kind: &'static str,
    /// A realistic variable name for it (`NAME=value` placements).
    pub name: String,
    /// The text as an agent would see or type it (a token, a URL with a password, a PEM block).
    pub text: String,
    /// The secret parts of `text` (a password, a PEM body line); the token itself for tokens.
    pub needles: Vec<String>,
}

pub fn b64(data: &[u8]) -> String {
    b64_with(data, B64.as_bytes(), true)
}

pub fn b64url(data: &[u8]) -> String {
    b64_with(data, B64URL.as_bytes(), false)
}

fn b64_with(data: &[u8], a: &[u8], pad: bool) -> String {
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(a[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// Percent-encodes everything but the unreserved characters.
pub fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The text as it appears inside a JSON string (without the quotes).
pub fn jsonesc(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap();
    q[1..q.len() - 1].to_owned()
}

fn uuid(r: &mut Rng) -> String {
    let h = r.s(HEX, 32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..]
    )
}

fn jwt(r: &mut Rng, alg: &str, claims: &str, sig_bytes: usize) -> String {
    format!(
        "{}.{}.{}",
        b64url(format!("{{\"alg\":\"{alg}\",\"typ\":\"JWT\"}}").as_bytes()),
        b64url(claims.as_bytes()),
        b64url(&r.bytes(sig_bytes))
    )
}

fn password(r: &mut Rng) -> String {
    // Always at least one symbol, one digit, one letter of each case.
    let n = r.range(12, 28);
    format!(
        "{}{}{}{}{}",
        r.s(UPPER, 1),
        r.s(SYMBOLS, n),
        r.s("!#%&*+=?@^~", 1),
        r.s(DIGITS, 1),
        r.s(LOWER, 1)
    )
}

const WORDS: &[&str] = &[
    "velvet", "mango", "quartz", "harbor", "juniper", "copper", "lantern", "meadow", "falcon",
    "violet", "granite", "ember", "saffron", "tundra", "orchid", "pepper", "glacier", "cobalt",
    "willow", "thunder", "amber", "cactus", "nectar", "pixel", "river", "summit", "tango",
];

fn passphrase(r: &mut Rng) -> String {
    let n = r.range(3, 5);
    let mut w: Vec<String> = (0..n).map(|_| r.pick(WORDS).to_owned()).collect();
    w.push(r.s(DIGITS, 2));
    w.join(" ")
}

/// A PEM block of `label` whose body starts with `head` (the fixed DER prefix of that key
/// type) and has `len` base64 characters in all.
fn pem(r: &mut Rng, label: &str, head: &str, len: usize, headers: &str) -> (String, Vec<String>) {
    let mut body = head.to_owned();
    body.push_str(&r.s(B64, len - head.len()));
    if !len.is_multiple_of(4) {
        body.push_str(&"=".repeat(4 - len % 4));
    }
    let lines: Vec<String> = body
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let text = format!(
        "-----BEGIN {label}-----\n{headers}{}\n-----END {label}-----",
        lines.join("\n")
    );
    (text, body_needles(&lines))
}

/// The lines of a key body that are its secret (the first 16 characters of the first line
/// are the DER header every key of its type shares).
fn body_needles(lines: &[String]) -> Vec<String> {
    let mut n: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l[16.min(l.len())..].to_owned()
            } else {
                l.clone()
            }
        })
        .filter(|l| l.trim_end_matches('=').len() >= 12)
        .collect();
    n.dedup();
    n
}

fn tok(s: String) -> (String, Vec<String>) {
    (s.clone(), vec![s])
}

type Gen = fn(&mut Rng) -> (String, Vec<String>);

/// (kind, variable names to pick from, generator).
fn table() -> Vec<(&'static str, &'static [&'static str], Gen)> {
    vec![
        ("aws-access-key-id", &["AWS_ACCESS_KEY_ID"], |r| {
            tok(format!(
                "AKIA{}",
                r.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
            ))
        }),
        ("aws-sts-access-key-id", &["AWS_ACCESS_KEY_ID"], |r| {
            tok(format!(
                "ASIA{}",
                r.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
            ))
        }),
        (
            "aws-secret-access-key",
            &["AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"],
            |r| tok(r.s(B64, 40)),
        ),
        ("aws-session-token", &["AWS_SESSION_TOKEN"], |r| {
            tok(format!("IQoJb3JpZ2luX2VjE{}", r.s(B64, 300)))
        }),
        ("github-classic-pat", &["GITHUB_TOKEN", "GH_TOKEN"], |r| {
            tok(format!("ghp_{}", r.s(ALNUM, 36)))
        }),
        (
            "github-fine-grained-pat",
            &["GITHUB_TOKEN", "GH_PAT"],
            |r| {
                tok(format!(
                    "github_pat_11{}_{}",
                    r.s(UPNUM, 20),
                    r.s(ALNUM, 59)
                ))
            },
        ),
        ("github-oauth", &["GITHUB_OAUTH_TOKEN"], |r| {
            tok(format!("gho_{}", r.s(ALNUM, 36)))
        }),
        ("github-app-user-token", &["GITHUB_USER_TOKEN"], |r| {
            tok(format!("ghu_{}", r.s(ALNUM, 36)))
        }),
        (
            "github-app-installation-token",
            &["GITHUB_APP_TOKEN"],
            |r| tok(format!("ghs_{}", r.s(ALNUM, 36))),
        ),
        ("github-refresh-token", &["GITHUB_REFRESH_TOKEN"], |r| {
            tok(format!("ghr_{}", r.s(ALNUM, 76)))
        }),
        ("gitlab-pat", &["GITLAB_TOKEN", "GL_TOKEN"], |r| {
            tok(format!("glpat-{}", r.s(WORDDASH, 20)))
        }),
        ("gitlab-pat-routable", &["GITLAB_TOKEN"], |r| {
            tok(format!("glpat-{}.01.{}", r.s(WORDDASH, 36), r.s(LOWNUM, 9)))
        }),
        (
            "gitlab-runner-token",
            &["CI_RUNNER_TOKEN", "RUNNER_TOKEN"],
            |r| tok(format!("glrt-{}", r.s(WORDDASH, 20))),
        ),
        ("gitlab-trigger-token", &["GITLAB_TRIGGER_TOKEN"], |r| {
            tok(format!("glptt-{}", r.s(HEX, 40)))
        }),
        ("gitlab-deploy-token", &["GITLAB_DEPLOY_TOKEN"], |r| {
            tok(format!("gldt-{}", r.s(WORDDASH, 20)))
        }),
        ("gitlab-ci-job-token", &["CI_JOB_TOKEN"], |r| {
            tok(format!("glcbt-{}_{}", r.s(ALNUM, 2), r.s(WORDDASH, 20)))
        }),
        ("bitbucket-app-password", &["BITBUCKET_APP_PASSWORD"], |r| {
            tok(format!(
                "ATBB{}{}",
                r.s(ALNUM, 24),
                r.s("0123456789ABCDEF", 8)
            ))
        }),
        (
            "atlassian-api-token",
            &["ATLASSIAN_API_TOKEN", "JIRA_API_TOKEN"],
            |r| {
                tok(format!(
                    "ATATT3xFfGF0{}={}",
                    r.s(WORDDASH, 180),
                    r.s("0123456789ABCDEF", 8)
                ))
            },
        ),
        (
            "azure-devops-pat",
            &["AZURE_DEVOPS_EXT_PAT", "AZDO_PAT"],
            |r| tok(format!("{}AZDO{}", r.s(ALNUM, 76), r.s(ALNUM, 4))),
        ),
        ("slack-bot-token", &["SLACK_BOT_TOKEN"], |r| {
            tok(format!(
                "xoxb-{}-{}-{}",
                r.s(DIGITS, 12),
                r.s(DIGITS, 13),
                r.s(ALNUM, 24)
            ))
        }),
        ("slack-user-token", &["SLACK_USER_TOKEN"], |r| {
            tok(format!(
                "xoxp-{}-{}-{}-{}",
                r.s(DIGITS, 12),
                r.s(DIGITS, 12),
                r.s(DIGITS, 13),
                r.s(HEX, 32)
            ))
        }),
        ("slack-app-token", &["SLACK_APP_TOKEN"], |r| {
            tok(format!(
                "xapp-1-A{}-{}-{}",
                r.s(UPNUM, 10),
                r.s(DIGITS, 13),
                r.s(HEX, 64)
            ))
        }),
        ("slack-webhook-url", &["SLACK_WEBHOOK_URL"], |r| {
            tok(format!(
                "https://hooks.slack.com/services/T{}/B{}/{}",
                r.s(UPNUM, 8),
                r.s(UPNUM, 10),
                r.s(ALNUM, 24)
            ))
        }),
        (
            "discord-bot-token",
            &["DISCORD_BOT_TOKEN", "DISCORD_TOKEN"],
            |r| {
                let id = format!("1{}", r.s(DIGITS, 18));
                tok(format!(
                    "{}.{}.{}",
                    b64url(id.as_bytes()),
                    r.s(B64URL, 6),
                    r.s(B64URL, 38)
                ))
            },
        ),
        ("discord-webhook-url", &["DISCORD_WEBHOOK_URL"], |r| {
            tok(format!(
                "https://discord.com/api/webhooks/1{}/{}",
                r.s(DIGITS, 18),
                r.s(B64URL, 68)
            ))
        }),
        ("telegram-bot-token", &["TELEGRAM_BOT_TOKEN"], |r| {
            tok(format!(
                "{}:AA{}",
                r.range(100_000_000, 9_999_999_999),
                r.s(B64URL, 33)
            ))
        }),
        ("twilio-api-key", &["TWILIO_API_KEY"], |r| {
            tok(format!("SK{}", r.s(HEX, 32)))
        }),
        ("twilio-account-sid", &["TWILIO_ACCOUNT_SID"], |r| {
            tok(format!("AC{}", r.s(HEX, 32)))
        }),
        ("twilio-auth-token", &["TWILIO_AUTH_TOKEN"], |r| {
            tok(r.s(HEX, 32))
        }),
        ("sendgrid-api-key", &["SENDGRID_API_KEY"], |r| {
            tok(format!("SG.{}.{}", r.s(B64URL, 22), r.s(B64URL, 43)))
        }),
        ("mailgun-api-key", &["MAILGUN_API_KEY"], |r| {
            tok(format!("key-{}", r.s(HEX, 32)))
        }),
        ("mailgun-private-key", &["MAILGUN_PRIVATE_KEY"], |r| {
            tok(format!("{}-{}-{}", r.s(HEX, 32), r.s(HEX, 8), r.s(HEX, 8)))
        }),
        ("mailchimp-api-key", &["MAILCHIMP_API_KEY"], |r| {
            tok(format!("{}-us{}", r.s(HEX, 32), r.range(10, 21)))
        }),
        (
            "postmark-server-token",
            &["POSTMARK_SERVER_TOKEN", "POSTMARK_API_TOKEN"],
            |r| tok(uuid(r)),
        ),
        (
            "stripe-secret-key",
            &["STRIPE_SECRET_KEY", "STRIPE_API_KEY"],
            |r| tok(format!("sk_live_51{}", r.s(ALNUM, 97))),
        ),
        ("stripe-restricted-key", &["STRIPE_RESTRICTED_KEY"], |r| {
            tok(format!("rk_live_51{}", r.s(ALNUM, 97)))
        }),
        ("stripe-webhook-secret", &["STRIPE_WEBHOOK_SECRET"], |r| {
            tok(format!("whsec_{}", r.s(ALNUM, 32)))
        }),
        ("square-access-token", &["SQUARE_ACCESS_TOKEN"], |r| {
            tok(format!("EAAA{}", r.s(WORDDASH, 60)))
        }),
        ("square-oauth-secret", &["SQUARE_APPLICATION_SECRET"], |r| {
            tok(format!("sq0csp-{}", r.s(WORDDASH, 43)))
        }),
        (
            "braintree-access-token",
            &["BRAINTREE_ACCESS_TOKEN", "PAYPAL_ACCESS_TOKEN"],
            |r| {
                tok(format!(
                    "access_token$production${}${}",
                    r.s(LOWNUM, 16),
                    r.s(HEX, 32)
                ))
            },
        ),
        ("paypal-client-secret", &["PAYPAL_CLIENT_SECRET"], |r| {
            tok(format!("E{}", r.s(WORDDASH, 79)))
        }),
        ("shopify-access-token", &["SHOPIFY_ACCESS_TOKEN"], |r| {
            tok(format!("shpat_{}", r.s(HEX, 32)))
        }),
        ("shopify-shared-secret", &["SHOPIFY_API_SECRET"], |r| {
            tok(format!("shpss_{}", r.s(HEX, 32)))
        }),
        ("sentry-dsn", &["SENTRY_DSN"], |r| {
            let key = r.s(HEX, 32);
            (
                format!(
                    "https://{key}@o{}.ingest.us.sentry.io/{}",
                    r.s(DIGITS, 6),
                    r.s(DIGITS, 7)
                ),
                vec![key],
            )
        }),
        ("sentry-user-token", &["SENTRY_AUTH_TOKEN"], |r| {
            tok(format!("sntryu_{}", r.s(HEX, 64)))
        }),
        ("sentry-org-token", &["SENTRY_AUTH_TOKEN"], |r| {
            let claims = format!(
                "{{\"iat\":{}.{},\"url\":\"https://sentry.io\",\"region_url\":\"https://us.sentry.io\",\"org\":\"acme-{}\"}}",
                r.range(1_700_000_000, 1_790_000_000),
                r.s(DIGITS, 6),
                r.s(LOWER, 5)
            );
            tok(format!(
                "sntrys_{}_{}",
                b64(claims.as_bytes()).trim_end_matches('='),
                r.s(B64, 43)
            ))
        }),
        ("datadog-api-key", &["DD_API_KEY", "DATADOG_API_KEY"], |r| {
            tok(r.s(HEX, 32))
        }),
        (
            "datadog-app-key",
            &["DD_APP_KEY", "DD_APPLICATION_KEY"],
            |r| tok(r.s(HEX, 40)),
        ),
        (
            "newrelic-user-api-key",
            &["NEW_RELIC_API_KEY", "NEW_RELIC_USER_KEY"],
            |r| tok(format!("NRAK-{}", r.s(UPNUM, 27))),
        ),
        ("newrelic-browser-key", &["NEW_RELIC_BROWSER_KEY"], |r| {
            tok(format!("NRJS-{}", r.s(HEX, 19)))
        }),
        ("newrelic-license-key", &["NEW_RELIC_LICENSE_KEY"], |r| {
            tok(format!("{}NRAL", r.s(HEX, 36)))
        }),
        (
            "algolia-admin-key",
            &["ALGOLIA_ADMIN_API_KEY", "ALGOLIA_API_KEY"],
            |r| tok(r.s(HEX, 32)),
        ),
        ("vercel-token", &["VERCEL_TOKEN"], |r| tok(r.s(ALNUM, 24))),
        ("netlify-token", &["NETLIFY_AUTH_TOKEN"], |r| {
            tok(format!("nfp_{}", r.s(ALNUM, 36)))
        }),
        ("heroku-api-key", &["HEROKU_API_KEY"], |r| {
            tok(format!("HRKU-AA{}", r.s(WORDDASH, 58)))
        }),
        ("heroku-legacy-api-key", &["HEROKU_API_KEY"], |r| {
            tok(uuid(r))
        }),
        ("buildkite-token", &["BUILDKITE_API_TOKEN"], |r| {
            tok(format!("bkua_{}", r.s(HEX, 40)))
        }),
        ("circleci-token", &["CIRCLECI_TOKEN", "CIRCLE_TOKEN"], |r| {
            tok(format!("CCIPAT_{}_{}", r.s(ALNUM, 22), r.s(HEX, 40)))
        }),
        ("travis-token", &["TRAVIS_API_TOKEN"], |r| {
            tok(r.s(ALNUM, 22))
        }),
        ("supabase-pat", &["SUPABASE_ACCESS_TOKEN"], |r| {
            tok(format!("sbp_{}", r.s(HEX, 40)))
        }),
        (
            "supabase-service-role-jwt",
            &["SUPABASE_SERVICE_ROLE_KEY"],
            |r| {
                let iat = r.range(1_650_000_000, 1_750_000_000);
                let claims = format!(
                    "{{\"iss\":\"supabase\",\"ref\":\"{}\",\"role\":\"service_role\",\"iat\":{iat},\"exp\":{}}}",
                    r.s(LOWER, 20),
                    iat + 315_360_000
                );
                tok(jwt(r, "HS256", &claims, 32))
            },
        ),
        ("supabase-secret-key", &["SUPABASE_SECRET_KEY"], |r| {
            tok(format!("sb_secret_{}", r.s(WORDDASH, 31)))
        }),
        ("pulumi-token", &["PULUMI_ACCESS_TOKEN"], |r| {
            tok(format!("pul-{}", r.s(HEX, 40)))
        }),
        ("doppler-token", &["DOPPLER_TOKEN"], |r| {
            tok(format!("dp.st.prd.{}", r.s(ALNUM, 43)))
        }),
        ("vault-service-token", &["VAULT_TOKEN"], |r| {
            tok(format!("hvs.CAESI{}", r.s(WORDDASH, 90)))
        }),
        ("vault-batch-token", &["VAULT_TOKEN"], |r| {
            tok(format!("hvb.AAAAAQ{}", r.s(WORDDASH, 150)))
        }),
        (
            "1password-service-account-token",
            &["OP_SERVICE_ACCOUNT_TOKEN"],
            |r| {
                let claims = format!(
                    "{{\"signInAddress\":\"my.1password.com\",\"userAuth\":{{\"method\":\"SRPg-4096\",\"alg\":\"PBES2g-HS256\",\"iterations\":650000,\"salt\":\"{}\"}},\"email\":\"{}@1passwordserviceaccounts.com\",\"srpX\":\"{}\",\"muk\":{{\"alg\":\"A256GCM\",\"ext\":true,\"k\":\"{}\",\"key_ops\":[\"encrypt\",\"decrypt\"],\"kty\":\"oct\",\"kid\":\"mp\"}},\"secretKey\":\"A3-{}\",\"throttleSecret\":{{\"seed\":\"{}\",\"uuid\":\"{}\"}},\"deviceUuid\":\"{}\"}}",
                    r.s(B64URL, 22),
                    r.s(LOWNUM, 13),
                    r.s(HEX, 64),
                    r.s(B64URL, 43),
                    r.s(UPNUM, 32),
                    r.s(HEX, 64),
                    r.s(UPNUM, 26),
                    r.s(LOWNUM, 26)
                );
                tok(format!(
                    "ops_{}",
                    b64(claims.as_bytes()).trim_end_matches('=')
                ))
            },
        ),
        ("1password-secret-key", &["OP_SECRET_KEY"], |r| {
            tok(format!(
                "A3-{}-{}-{}-{}-{}",
                r.s(UPNUM, 6),
                r.s(UPNUM, 11),
                r.s(UPNUM, 5),
                r.s(UPNUM, 5),
                r.s(UPNUM, 5)
            ))
        }),
        (
            "terraform-cloud-token",
            &["TF_TOKEN_app_terraform_io", "TFE_TOKEN"],
            |r| tok(format!("{}.atlasv1.{}", r.s(ALNUM, 14), r.s(ALNUM, 67))),
        ),
        ("npm-token", &["NPM_TOKEN", "NODE_AUTH_TOKEN"], |r| {
            tok(format!("npm_{}", r.s(ALNUM, 36)))
        }),
        ("pypi-token", &["PYPI_API_TOKEN", "TWINE_PASSWORD"], |r| {
            tok(format!("pypi-AgEIcHlwaS5vcmc{}", r.s(WORDDASH, 160)))
        }),
        ("rubygems-api-key", &["GEM_HOST_API_KEY"], |r| {
            tok(format!("rubygems_{}", r.s(HEX, 48)))
        }),
        ("nuget-api-key", &["NUGET_API_KEY"], |r| {
            tok(format!("oy2{}", r.s(LOWNUM, 43)))
        }),
        (
            "dockerhub-pat",
            &["DOCKERHUB_TOKEN", "DOCKER_PASSWORD"],
            |r| tok(format!("dckr_pat_{}", r.s(WORDDASH, 27))),
        ),
        (
            "cloudflare-api-token",
            &["CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"],
            |r| tok(r.s(WORDDASH, 40)),
        ),
        (
            "cloudflare-global-api-key",
            &["CLOUDFLARE_API_KEY", "CF_API_KEY"],
            |r| tok(r.s(HEX, 37)),
        ),
        ("cloudflare-origin-ca-key", &["CF_ORIGIN_CA_KEY"], |r| {
            tok(format!("v1.0-{}-{}", r.s(HEX, 24), r.s(HEX, 146)))
        }),
        (
            "digitalocean-pat",
            &["DIGITALOCEAN_TOKEN", "DO_TOKEN"],
            |r| tok(format!("dop_v1_{}", r.s(HEX, 64))),
        ),
        ("linode-token", &["LINODE_TOKEN", "LINODE_CLI_TOKEN"], |r| {
            tok(r.s(HEX, 64))
        }),
        ("fastly-api-token", &["FASTLY_API_TOKEN"], |r| {
            tok(r.s(WORDDASH, 32))
        }),
        (
            "okta-api-token",
            &["OKTA_API_TOKEN", "OKTA_CLIENT_TOKEN"],
            |r| tok(format!("00{}", r.s(WORDDASH, 40))),
        ),
        ("auth0-client-secret", &["AUTH0_CLIENT_SECRET"], |r| {
            tok(r.s(WORDDASH, 64))
        }),
        (
            "gcp-api-key",
            &["GOOGLE_API_KEY", "GOOGLE_MAPS_API_KEY"],
            |r| tok(format!("AIza{}", r.s(WORDDASH, 35))),
        ),
        (
            "firebase-api-key",
            &["FIREBASE_API_KEY", "NEXT_PUBLIC_FIREBASE_API_KEY"],
            |r| tok(format!("AIzaSy{}", r.s(WORDDASH, 33))),
        ),
        (
            "google-oauth-client-secret",
            &["GOOGLE_CLIENT_SECRET"],
            |r| tok(format!("GOCSPX-{}", r.s(WORDDASH, 28))),
        ),
        (
            "gcp-service-account-json",
            &["GOOGLE_APPLICATION_CREDENTIALS_JSON", "GCP_SA_KEY"],
            |r| {
                let (key, needles) = pem(
                    r,
                    "PRIVATE KEY",
                    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
                    1624,
                    "",
                );
                // `private_key_id` names the key (the console lists it); it unlocks
                // nothing, and gitleaks allowlists `key_id` too: not a needle.
                let key_id = r.s(HEX, 40);
                let project = format!("shop-prod-{}", r.s(DIGITS, 6));
                let v = serde_json::json!({
                    "type": "service_account", "project_id": project, "private_key_id": key_id,
                    "private_key": format!("{key}\n"), "client_email": format!("deployer@{project}.iam.gserviceaccount.com"),
                    "client_id": r.s(DIGITS, 21), "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                    "token_uri": "https://oauth2.googleapis.com/token",
                });
                (serde_json::to_string_pretty(&v).unwrap(), needles)
            },
        ),
        (
            "azure-storage-connection-string",
            &["AZURE_STORAGE_CONNECTION_STRING"],
            |r| {
                let key = b64(&r.bytes(64));
                (
                    format!(
                        "DefaultEndpointsProtocol=https;AccountName=shopassets{};AccountKey={key};EndpointSuffix=core.windows.net",
                        r.s(LOWNUM, 4)
                    ),
                    vec![key],
                )
            },
        ),
        ("azure-ad-client-secret", &["AZURE_CLIENT_SECRET"], |r| {
            tok(format!(
                "{}{}Q~{}",
                r.s(ALNUM, 3),
                r.s(DIGITS, 1),
                r.s(
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-",
                    34
                )
            ))
        }),
        ("openai-project-key", &["OPENAI_API_KEY"], |r| {
            tok(format!(
                "sk-proj-{}T3BlbkFJ{}",
                r.s(WORDDASH, 74),
                r.s(WORDDASH, 74)
            ))
        }),
        ("openai-service-account-key", &["OPENAI_API_KEY"], |r| {
            tok(format!(
                "sk-svcacct-{}T3BlbkFJ{}",
                r.s(WORDDASH, 58),
                r.s(WORDDASH, 58)
            ))
        }),
        ("openai-legacy-key", &["OPENAI_API_KEY"], |r| {
            tok(format!("sk-{}T3BlbkFJ{}", r.s(ALNUM, 20), r.s(ALNUM, 20)))
        }),
        ("anthropic-api-key", &["ANTHROPIC_API_KEY"], |r| {
            tok(format!("sk-ant-api03-{}AA", r.s(WORDDASH, 93)))
        }),
        ("anthropic-admin-key", &["ANTHROPIC_ADMIN_KEY"], |r| {
            tok(format!("sk-ant-admin01-{}AA", r.s(WORDDASH, 93)))
        }),
        (
            "huggingface-token",
            &["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"],
            |r| {
                tok(format!(
                    "hf_{}",
                    r.s("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 34)
                ))
            },
        ),
        ("cohere-api-key", &["COHERE_API_KEY", "CO_API_KEY"], |r| {
            tok(r.s(ALNUM, 40))
        }),
        ("groq-api-key", &["GROQ_API_KEY"], |r| {
            tok(format!("gsk_{}", r.s(ALNUM, 52)))
        }),
        ("replicate-api-token", &["REPLICATE_API_TOKEN"], |r| {
            tok(format!("r8_{}", r.s(ALNUM, 37)))
        }),
        ("mistral-api-key", &["MISTRAL_API_KEY"], |r| {
            tok(r.s(ALNUM, 32))
        }),
        (
            "perplexity-api-key",
            &["PERPLEXITY_API_KEY", "PPLX_API_KEY"],
            |r| tok(format!("pplx-{}", r.s(ALNUM, 48))),
        ),
        ("xai-api-key", &["XAI_API_KEY"], |r| {
            tok(format!("xai-{}", r.s(ALNUM, 80)))
        }),
        ("databricks-token", &["DATABRICKS_TOKEN"], |r| {
            tok(format!("dapi{}", r.s(HEX, 32)))
        }),
        ("linear-api-key", &["LINEAR_API_KEY"], |r| {
            tok(format!("lin_api_{}", r.s(ALNUM, 40)))
        }),
        ("notion-token", &["NOTION_TOKEN", "NOTION_API_KEY"], |r| {
            tok(format!("ntn_{}{}", r.s(DIGITS, 11), r.s(ALNUM, 35)))
        }),
        ("airtable-pat", &["AIRTABLE_API_KEY"], |r| {
            tok(format!("pat{}.{}", r.s(ALNUM, 14), r.s(HEX, 64)))
        }),
        ("grafana-service-account-token", &["GRAFANA_TOKEN"], |r| {
            tok(format!("glsa_{}_{}", r.s(ALNUM, 32), r.s(HEX, 8)))
        }),
        ("planetscale-token", &["PLANETSCALE_SERVICE_TOKEN"], |r| {
            tok(format!("pscale_tkn_{}", r.s(WORDDASH, 43)))
        }),
        ("postman-api-key", &["POSTMAN_API_KEY"], |r| {
            tok(format!("PMAK-{}-{}", r.s(HEX, 24), r.s(HEX, 34)))
        }),
        (
            "artifactory-api-key",
            &["ARTIFACTORY_API_KEY", "JFROG_TOKEN"],
            |r| tok(format!("AKCp{}", r.s(ALNUM, 69))),
        ),
        ("mapbox-secret-token", &["MAPBOX_SECRET_TOKEN"], |r| {
            tok(format!(
                "sk.eyJ1IjoiYWNtZS{}.{}",
                r.s(ALNUM, 40),
                r.s(WORDDASH, 22)
            ))
        }),
        ("postgres-url", &["DATABASE_URL", "POSTGRES_URL"], |r| {
            let pw = r.sn(ALNUM, 16, 32);
            (
                format!(
                    "postgres://app_{}:{pw}@db-{}.internal:5432/shop?sslmode=require",
                    r.s(LOWER, 4),
                    r.s(LOWNUM, 6)
                ),
                vec![pw],
            )
        }),
        ("mysql-url", &["MYSQL_URL", "DATABASE_URL"], |r| {
            let pw = r.sn(ALNUM, 16, 32);
            (
                format!(
                    "mysql://root:{pw}@10.0.{}.{}:3306/app",
                    r.range(0, 254),
                    r.range(1, 254)
                ),
                vec![pw],
            )
        }),
        ("mongodb-url", &["MONGODB_URI", "MONGO_URL"], |r| {
            let pw = r.sn(ALNUM, 16, 32);
            (
                format!(
                    "mongodb+srv://svc-orders:{pw}@cluster0.{}.mongodb.net/prod?retryWrites=true&w=majority",
                    r.s(LOWNUM, 5)
                ),
                vec![pw],
            )
        }),
        ("redis-url", &["REDIS_URL"], |r| {
            let pw = r.sn(ALNUM, 20, 40);
            (
                format!("redis://:{pw}@cache-{}.internal:6379/0", r.s(LOWNUM, 4)),
                vec![pw],
            )
        }),
        ("amqp-url", &["AMQP_URL", "RABBITMQ_URL"], |r| {
            let pw = r.sn(ALNUM, 16, 32);
            (
                format!("amqps://orders:{pw}@mq.internal:5671/shop"),
                vec![pw],
            )
        }),
        ("snowflake-url", &["SNOWFLAKE_URL"], |r| {
            let pw = password(r);
            (
                format!(
                    "snowflake://etl_user:{}@acme-{}/analytics/public?warehouse=ETL_WH",
                    urlenc(&pw),
                    r.s(LOWNUM, 7)
                ),
                vec![urlenc(&pw)],
            )
        }),
        ("jwt", &["SESSION_TOKEN", "ACCESS_TOKEN", "ID_TOKEN"], |r| {
            let claims = format!(
                "{{\"sub\":\"{}\",\"name\":\"ana\",\"scope\":\"orders:write\",\"iat\":{}}}",
                uuid(r),
                r.range(1_700_000_000, 1_790_000_000)
            );
            tok(jwt(r, "HS256", &claims, 32))
        }),
        (
            "rsa-private-key",
            &["SSH_PRIVATE_KEY", "RSA_PRIVATE_KEY"],
            |r| pem(r, "RSA PRIVATE KEY", "MIIEowIBAAKCAQEA", 1588, ""),
        ),
        ("ec-private-key", &["EC_PRIVATE_KEY"], |r| {
            pem(r, "EC PRIVATE KEY", "MHcCAQEEI", 160, "")
        }),
        (
            "openssh-private-key",
            &["SSH_PRIVATE_KEY", "DEPLOY_KEY"],
            |r| {
                let (text, n) = pem(
                    r,
                    "OPENSSH PRIVATE KEY",
                    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
                    400,
                    "",
                );
                // OpenSSH wraps at 70 characters; re-wrap.
                let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
                let lines: Vec<String> = body
                    .as_bytes()
                    .chunks(70)
                    .map(|c| String::from_utf8(c.to_vec()).unwrap())
                    .collect();
                let _ = n;
                (
                    format!(
                        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----",
                        lines.join("\n")
                    ),
                    body_needles(&lines).into_iter().skip(1).collect(),
                )
            },
        ),
        (
            "pkcs8-private-key",
            &["PRIVATE_KEY", "JWT_PRIVATE_KEY"],
            |r| {
                pem(
                    r,
                    "PRIVATE KEY",
                    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASC",
                    1624,
                    "",
                )
            },
        ),
        ("encrypted-private-key", &["TLS_KEY"], |r| {
            pem(
                r,
                "ENCRYPTED PRIVATE KEY",
                "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkq",
                1752,
                "",
            )
        }),
        ("encrypted-rsa-private-key", &["TLS_KEY"], |r| {
            let iv = r.s("0123456789ABCDEF", 32);
            pem(
                r,
                "RSA PRIVATE KEY",
                "",
                1624,
                &format!("Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,{iv}\n\n"),
            )
        }),
        ("putty-private-key", &["PUTTY_KEY"], |r| {
            let private = r.s(B64, 64);
            let mac = r.s(HEX, 64);
            (
                format!(
                    "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: ana@laptop\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAI{}\n{}\nPrivate-Lines: 1\n{private}\nPrivate-MAC: {mac}",
                    r.s(B64, 40),
                    r.s(B64, 8),
                ),
                vec![private, mac],
            )
        }),
        ("age-secret-key", &["AGE_SECRET_KEY", "SOPS_AGE_KEY"], |r| {
            tok(format!("AGE-SECRET-KEY-1{}", r.s(BECH32, 58)))
        }),
        (
            "kubeconfig-client-key-data",
            &["KUBECONFIG_CLIENT_KEY"],
            |r| {
                let (key, _) = pem(r, "RSA PRIVATE KEY", "MIIEowIBAAKCAQEA", 1588, "");
                let data = b64(format!("{key}\n").as_bytes());
                // Its first and last characters encode the PEM armour every key shares.
                (
                    format!("client-key-data: {data}"),
                    vec![data[40..data.len() - 48].to_owned()],
                )
            },
        ),
        ("kubeconfig-token", &["K8S_TOKEN", "KUBE_TOKEN"], |r| {
            let claims = format!(
                "{{\"iss\":\"kubernetes/serviceaccount\",\"kubernetes.io/serviceaccount/namespace\":\"prod\",\"kubernetes.io/serviceaccount/secret.name\":\"deployer-token-{}\",\"sub\":\"system:serviceaccount:prod:deployer\"}}",
                r.s(LOWNUM, 5)
            );
            let t = jwt(r, "RS256", &claims, 256);
            (format!("token: {t}"), vec![t])
        }),
        ("netrc-password", &["NETRC"], |r| {
            let pw = password(r).replace(' ', "");
            (
                format!("machine git.example-shop.io login ana password {pw}"),
                vec![pw],
            )
        }),
        ("pgpass-line", &["PGPASSFILE_LINE"], |r| {
            let pw = password(r).replace([':', '\\'], "");
            (format!("db.internal:5432:shop:app:{pw}"), vec![pw])
        }),
        ("curl-user-password", &["CURL_USER"], |r| {
            let pw = r.s(ALNUM, 12) + &r.s("!@#%^*-_=+.~", 2) + &r.s(ALNUM, 6);
            (
                format!(
                    "curl -u deploy:{pw} https://artifacts.example-shop.io/upload -T build.tgz"
                ),
                vec![pw],
            )
        }),
        ("mysql-password-flag", &["MYSQL_CMD"], |r| {
            let pw = r.s(ALNUM, 14) + &r.s("!#%^*-_=+.~", 2) + &r.s(DIGITS, 3);
            (format!("mysql -uroot -p{pw} -h db.internal shop"), vec![pw])
        }),
        ("sshpass-password", &["SSHPASS_CMD"], |r| {
            let pw = password(r).replace(['\'', '\\'], "");
            (format!("sshpass -p '{pw}' ssh deploy@10.0.4.12"), vec![pw])
        }),
        (
            "password-with-symbols",
            &[
                "DB_PASSWORD",
                "ADMIN_PASSWORD",
                "SMTP_PASSWORD",
                "POSTGRES_PASSWORD",
            ],
            |r| tok(password(r)),
        ),
        (
            "passphrase-with-spaces",
            &["PGPASSWORD", "GPG_PASSPHRASE", "KEY_PASSPHRASE"],
            |r| tok(passphrase(r)),
        ),
        ("basic-auth-header", &["BASIC_AUTH"], |r| {
            let pw = r.s(ALNUM, 20);
            let enc = b64(format!("deploy:{pw}").as_bytes());
            (format!("Authorization: Basic {enc}"), vec![enc])
        }),
        ("django-secret-key", &["DJANGO_SECRET_KEY"], |r| {
            tok(format!(
                "django-insecure-{}",
                r.s("abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)", 50)
            ))
        }),
        ("rails-secret-key-base", &["SECRET_KEY_BASE"], |r| {
            tok(r.s(HEX, 128))
        }),
        (
            "generic-hex",
            &[
                "SECRET_KEY",
                "SIGNING_SECRET",
                "WEBHOOK_SECRET",
                "ENCRYPTION_KEY",
                "HMAC_KEY",
            ],
            |r| {
                let n = r.range(20, 1000);
                tok(r.s(HEX, n))
            },
        ),
        (
            "generic-lower-digits",
            &[
                "API_SECRET",
                "APP_SECRET",
                "CLIENT_SECRET",
                "MASTER_KEY",
                "PRIVATE_TOKEN",
            ],
            |r| {
                let n = r.range(20, 1000);
                tok(r.s(LOWNUM, n))
            },
        ),
        (
            "generic-base64",
            &[
                "JWT_SECRET",
                "SESSION_SECRET",
                "COOKIE_SECRET",
                "APP_KEY",
                "ENCRYPTION_KEY",
            ],
            |r| {
                let n = r.range(15, 750);
                tok(b64(&r.bytes(n)))
            },
        ),
        (
            "generic-base64url",
            &[
                "API_TOKEN",
                "SERVICE_TOKEN",
                "AUTH_TOKEN",
                "REFRESH_TOKEN",
                "ACCESS_KEY",
            ],
            |r| {
                let n = r.range(15, 750);
                tok(b64url(&r.bytes(n)))
            },
        ),
        (
            "generic-alnum",
            &["API_KEY", "X_API_KEY", "PARTNER_API_KEY", "LICENSE_KEY"],
            |r| {
                let n = r.range(20, 64);
                tok(r.s(ALNUM, n))
            },
        ),
        ("bearer-opaque-token", &["BEARER_TOKEN"], |r| {
            tok(format!("{}.{}", r.s(ALNUM, 24), r.s(ALNUM, 32)))
        }),
    ]
}

/// The kinds, in order.
pub fn kinds() -> Vec<&'static str> {
    table().into_iter().map(|(k, _, _)| k).collect()
}

/// A fresh secret of kind number `i`.
pub fn make(i: usize, r: &mut Rng) -> Secret {
    let t = table();
    let (kind, names, generate) = t[i];
    let name = r.pick(names).to_owned();
    let (text, needles) = generate(r);
    assert!(
        !needles.is_empty() && needles.iter().all(|n| text.contains(n.as_str())),
        "{kind}: needles are in the text"
    );
    Secret {
        kind,
        name,
        text,
        needles,
    }
}
