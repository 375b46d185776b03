//! The named scenarios and the attacks each one runs next to the legitimate users.

/// One kind of attacker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// Anonymous GETs of the public timeline and of profiles.
    AnonymousRead,
    /// One stolen token hammering authenticated reads.
    StolenToken,
    /// `POST /oauth/token` password grants with wrong passwords (each costs the server an argon2 hash).
    Login,
    /// `POST /api/v1/accounts` with fresh usernames (each costs a hash and a write).
    Signup,
    /// `POST /api/v1/statuses` with bodies far above the body cap.
    BigBodies,
    /// Thousands of half-open connections trickling header bytes.
    Slowloris,
    /// Requests with made-up bearer tokens (each new token is a look-up the server pays for).
    FakeTokens,
    /// Requests whose head arrives whole but whose body stalls after a few bytes,
    /// over HTTP/1.1 connections and over HTTP/2 (many streams per connection).
    SlowBodies,
}

impl Attack {
    pub fn name(self) -> &'static str {
        match self {
            Attack::AnonymousRead => "anonymous-read",
            Attack::StolenToken => "stolen-token",
            Attack::Login => "login",
            Attack::Signup => "signup",
            Attack::BigBodies => "big-body",
            Attack::Slowloris => "slowloris",
            Attack::FakeTokens => "fake-token",
            Attack::SlowBodies => "slow-body",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    Calm,
    AnonymousFlood,
    TokenFlood,
    LoginFlood,
    SignupFlood,
    Slowloris,
    BigBodies,
    Mixed,
    FakeTokens,
    SlowBodies,
    /// Every legitimate user behind one address (a NAT), during anonymous and token floods.
    SharedAddress,
}

pub const SCENARIO_NAMES: [&str; 11] = [
    "calm",
    "anonymous-flood",
    "token-flood",
    "login-flood",
    "signup-flood",
    "slowloris",
    "big-bodies",
    "mixed",
    "fake-tokens",
    "slow-bodies",
    "shared-address",
];

impl Scenario {
    pub fn parse(name: &str) -> Result<Self, String> {
        Ok(match name {
            "calm" => Scenario::Calm,
            "anonymous-flood" => Scenario::AnonymousFlood,
            "token-flood" => Scenario::TokenFlood,
            "login-flood" => Scenario::LoginFlood,
            "signup-flood" => Scenario::SignupFlood,
            "slowloris" => Scenario::Slowloris,
            "big-bodies" => Scenario::BigBodies,
            "mixed" => Scenario::Mixed,
            "fake-tokens" => Scenario::FakeTokens,
            "slow-bodies" => Scenario::SlowBodies,
            "shared-address" => Scenario::SharedAddress,
            _ => {
                return Err(format!(
                    "unknown scenario {name:?}; one of: {}",
                    SCENARIO_NAMES.join(", ")
                ))
            }
        })
    }

    pub fn name(self) -> &'static str {
        SCENARIO_NAMES[self as usize]
    }

    /// The attacks this scenario runs; request floods share `--attack-concurrency` evenly,
    /// slowloris has its own `--slowloris-connections`.
    pub fn attacks(self) -> &'static [Attack] {
        match self {
            Scenario::Calm => &[],
            Scenario::AnonymousFlood => &[Attack::AnonymousRead],
            Scenario::TokenFlood => &[Attack::StolenToken],
            Scenario::LoginFlood => &[Attack::Login],
            Scenario::SignupFlood => &[Attack::Signup],
            Scenario::Slowloris => &[Attack::Slowloris],
            Scenario::BigBodies => &[Attack::BigBodies],
            Scenario::Mixed => &[
                Attack::AnonymousRead,
                Attack::StolenToken,
                Attack::Login,
                Attack::Signup,
                Attack::BigBodies,
                Attack::Slowloris,
            ],
            Scenario::FakeTokens => &[Attack::FakeTokens],
            Scenario::SlowBodies => &[Attack::SlowBodies],
            Scenario::SharedAddress => &[Attack::AnonymousRead, Attack::StolenToken],
        }
    }

    /// Whether every legitimate user sends from one shared address.
    pub fn legit_share_an_address(self) -> bool {
        self == Scenario::SharedAddress
    }

    pub fn request_floods(self) -> Vec<Attack> {
        self.attacks()
            .iter()
            .copied()
            .filter(|a| !matches!(a, Attack::Slowloris | Attack::SlowBodies))
            .collect()
    }

    pub fn has_slowloris(self) -> bool {
        self.attacks().contains(&Attack::Slowloris)
    }

    pub fn has_slow_bodies(self) -> bool {
        self.attacks().contains(&Attack::SlowBodies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in SCENARIO_NAMES {
            assert_eq!(Scenario::parse(name).unwrap().name(), name);
        }
        assert!(Scenario::parse("ddos").unwrap_err().contains("mixed"));
    }

    #[test]
    fn mixed_runs_every_attack_and_calm_none() {
        assert_eq!(Scenario::Mixed.attacks().len(), 6);
        assert!(Scenario::Calm.attacks().is_empty());
        assert!(Scenario::Slowloris.request_floods().is_empty());
    }
}
