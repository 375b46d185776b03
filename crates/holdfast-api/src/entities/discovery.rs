//! Suggestion (who to follow, and why) and FamiliarFollowers (which of the
//! accounts I follow also follow an account).

use holdfast_service::discovery::SuggestedAccount;
use holdfast_store::{AccountRow, Id, SuggestionSource};
use serde::Serialize;

use super::{id, Account, Urls};

#[derive(Serialize)]
pub struct Suggestion {
    /// Deprecated by Mastodon in favour of `sources`; older clients still read it.
    pub source: &'static str,
    pub sources: [&'static str; 1],
    pub account: Account,
}

impl Suggestion {
    pub fn new(urls: &Urls, s: &SuggestedAccount) -> Suggestion {
        let (source, sources) = match s.source {
            SuggestionSource::FriendsOfFriends => ("past_interactions", "friends_of_friends"),
            SuggestionSource::MostFollowed => ("global", "most_followed"),
        };
        Suggestion {
            source,
            sources: [sources],
            account: Account::new(urls, &s.account),
        }
    }
}

#[derive(Serialize)]
pub struct FamiliarFollowers {
    /// The account asked about.
    pub id: String,
    pub accounts: Vec<Account>,
}

impl FamiliarFollowers {
    pub fn new(urls: &Urls, account_id: Id, accounts: &[AccountRow]) -> FamiliarFollowers {
        FamiliarFollowers {
            id: id(account_id),
            accounts: accounts.iter().map(|a| Account::new(urls, a)).collect(),
        }
    }
}
