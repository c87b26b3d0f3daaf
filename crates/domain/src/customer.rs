//! The customer vocabulary of DOMAIN.md §2: kinds, identity document types and the check
//! characters of the two that have one (resident ID, ISO 7064 MOD 11-2; unified social credit
//! code, GB 32100-2015), the eight lifecycle stages and their allowed transitions, corporate
//! tiers, and retail wealth tiers with their configurable AUM thresholds.

use chrono::NaiveDate;
use thiserror::Error;

use crate::money::{Currency, Money, MoneyError};
use crate::org::BranchLevel;

code_enum! {
    /// The kind of customer.
    pub enum CustomerKind {
        /// A person.
        Individual => "individual",
        /// A company.
        Corporate => "corporate",
        /// A small business (小企业).
        SmallBusiness => "small_business",
        /// A government or public body.
        Institution => "institution",
    }
}

code_enum! {
    /// The type of an identity document. (type, number) is unique across customers.
    pub enum IdentityType {
        /// PRC resident identity card, 18 characters with an ISO 7064 MOD 11-2 check.
        ResidentId => "resident_id",
        /// Passport.
        Passport => "passport",
        /// Mainland travel permit for Hong Kong and Macau residents.
        HkMacauPermit => "hk_macau_permit",
        /// Mainland travel permit for Taiwan residents.
        TaiwanPermit => "taiwan_permit",
        /// Foreigner's permanent residence ID card.
        ForeignPermanentResidence => "foreign_permanent_residence",
        /// Unified social credit code of an organisation, 18 characters, GB 32100 check.
        UnifiedSocialCreditCode => "unified_social_credit_code",
        /// Any other document.
        Other => "other",
    }
}

/// Why an identity number is invalid. The number itself is never included: it is PII.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdentityError {
    /// Nothing but whitespace.
    #[error("{0} number is empty")]
    Empty(IdentityType),
    /// Wrong length for the type.
    #[error("{kind} number must have {expected} characters, not {actual}")]
    Length {
        /// The document type.
        kind: IdentityType,
        /// The required length (or maximum length).
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A character that the type does not allow.
    #[error("{0} number contains a character that is not allowed")]
    Character(IdentityType),
    /// The check character does not match.
    #[error("{0} number has a wrong check character")]
    CheckCharacter(IdentityType),
    /// The birth date inside a resident ID is not a calendar date.
    #[error("resident_id number has an impossible birth date")]
    BirthDate,
}

const RESIDENT_ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const RESIDENT_ID_CHECK: &[u8; 11] = b"10X98765432";

/// The ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID, or `None`
/// when `body` is not 17 ASCII digits.
pub fn resident_id_check_char(body: &str) -> Option<char> {
    if body.len() != 17 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = body
        .bytes()
        .zip(RESIDENT_ID_WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    RESIDENT_ID_CHECK
        .get((sum % 11) as usize)
        .map(|b| char::from(*b))
}

/// The 31 characters of GB 32100 codes: digits and upper-case letters except I, O, Z, S, V.
const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn uscc_value(b: u8) -> Option<u32> {
    USCC_ALPHABET
        .iter()
        .position(|c| *c == b)
        .and_then(|p| u32::try_from(p).ok())
}

/// The GB 32100-2015 check character of the first 17 characters of a unified social credit
/// code, or `None` when `body` is not 17 characters of the code alphabet.
pub fn uscc_check_char(body: &str) -> Option<char> {
    if body.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (b, w) in body.bytes().zip(USCC_WEIGHTS) {
        sum += uscc_value(b)? * w;
    }
    USCC_ALPHABET
        .get(((31 - sum % 31) % 31) as usize)
        .map(|b| char::from(*b))
}

fn check_length(kind: IdentityType, s: &str, expected: usize) -> Result<(), IdentityError> {
    let actual = s.chars().count();
    if actual == expected {
        Ok(())
    } else {
        Err(IdentityError::Length {
            kind,
            expected,
            actual,
        })
    }
}

/// Validates a resident ID in canonical form (18 characters, upper-case `X`): the check
/// character and the embedded birth date.
pub fn validate_resident_id(s: &str) -> Result<(), IdentityError> {
    let kind = IdentityType::ResidentId;
    check_length(kind, s, 18)?;
    if !s.is_ascii() {
        return Err(IdentityError::Character(kind));
    }
    let (body, check) = s.split_at(17);
    let expected = resident_id_check_char(body).ok_or(IdentityError::Character(kind))?;
    if !check.starts_with(|c: char| c.is_ascii_digit() || c == 'X') {
        return Err(IdentityError::Character(kind));
    }
    if !check.starts_with(expected) {
        return Err(IdentityError::CheckCharacter(kind));
    }
    let number = |range: std::ops::Range<usize>| body.get(range)?.parse::<u32>().ok();
    let birth = number(6..10)
        .and_then(|year| i32::try_from(year).ok())
        .zip(number(10..12).zip(number(12..14)))
        .and_then(|(year, (month, day))| NaiveDate::from_ymd_opt(year, month, day));
    birth.map(|_| ()).ok_or(IdentityError::BirthDate)
}

/// Validates a unified social credit code in canonical form (18 upper-case characters).
pub fn validate_uscc(s: &str) -> Result<(), IdentityError> {
    let kind = IdentityType::UnifiedSocialCreditCode;
    check_length(kind, s, 18)?;
    if !s.bytes().all(|b| uscc_value(b).is_some()) {
        return Err(IdentityError::Character(kind));
    }
    let (body, check) = s.split_at(17);
    match uscc_check_char(body) {
        Some(expected) if check.starts_with(expected) => Ok(()),
        _ => Err(IdentityError::CheckCharacter(kind)),
    }
}

/// Longest number accepted for the types without a fixed format.
pub const MAX_IDENTITY_NUMBER_LEN: usize = 64;

/// Normalises an identity number (trims it and upper-cases ASCII letters) and validates it for
/// its type. Returns the canonical form, which is what (type, number) uniqueness compares.
/// Types without a check character accept 1 to 64 ASCII letters and digits; `Other` also
/// accepts any printable character.
pub fn normalize_identity_number(kind: IdentityType, raw: &str) -> Result<String, IdentityError> {
    let number = raw.trim().to_ascii_uppercase();
    if number.is_empty() {
        return Err(IdentityError::Empty(kind));
    }
    match kind {
        IdentityType::ResidentId => validate_resident_id(&number)?,
        IdentityType::UnifiedSocialCreditCode => validate_uscc(&number)?,
        _ => {
            let actual = number.chars().count();
            if actual > MAX_IDENTITY_NUMBER_LEN {
                return Err(IdentityError::Length {
                    kind,
                    expected: MAX_IDENTITY_NUMBER_LEN,
                    actual,
                });
            }
            let allowed = |c: char| match kind {
                IdentityType::Other => !c.is_control(),
                _ => c.is_ascii_alphanumeric(),
            };
            if !number.chars().all(allowed) {
                return Err(IdentityError::Character(kind));
            }
        }
    }
    Ok(number)
}

code_enum! {
    /// The lifecycle stage of a customer (DOMAIN.md §2). The main chain runs from `Potential`
    /// to `StrategicPartner`; `Problem` and `Exited` are side states.
    pub enum LifecycleStage {
        /// Potential customer (潜在).
        Potential => "potential",
        /// Target customer (目标).
        Target => "target",
        /// New customer (新).
        New => "new",
        /// Established customer (老).
        Established => "established",
        /// Core customer (核心).
        Core => "core",
        /// Strategic partner (战略合作).
        StrategicPartner => "strategic_partner",
        /// Problem customer (问题).
        Problem => "problem",
        /// Exited customer (退出).
        Exited => "exited",
    }
}

impl LifecycleStage {
    /// Position on the main chain (potential = 0 … strategic partner = 5); `None` for the side
    /// states.
    pub const fn chain_position(self) -> Option<u8> {
        match self {
            Self::Potential => Some(0),
            Self::Target => Some(1),
            Self::New => Some(2),
            Self::Established => Some(3),
            Self::Core => Some(4),
            Self::StrategicPartner => Some(5),
            Self::Problem | Self::Exited => None,
        }
    }

    /// Whether the bank has a working relationship with the customer: new, established, core or
    /// strategic partner. Only these can become a problem customer — the seed describes problem
    /// customers as arising "in the course of cooperation" (在与客户的合作过程中); prospects
    /// (potential, target) have no cooperation yet.
    pub const fn is_active(self) -> bool {
        matches!(
            self,
            Self::New | Self::Established | Self::Core | Self::StrategicPartner
        )
    }

    /// Whether the stage may change from `self` to `to`; see [`can_transition`].
    pub fn can_transition_to(self, to: LifecycleStage) -> bool {
        can_transition(self, to)
    }
}

/// Whether a customer may move from stage `from` to stage `to`. Exactly these are allowed:
/// one step up the main chain; one step down from core or strategic partner; target →
/// potential; any active stage ([`LifecycleStage::is_active`]) → problem; problem → established;
/// any stage → exited; exited → potential (win-back). Staying in the same stage is not a
/// transition.
pub fn can_transition(from: LifecycleStage, to: LifecycleStage) -> bool {
    use LifecycleStage::*;
    if from == to {
        return false;
    }
    if is_upgrade(from, to) || to == Exited || (to == Problem && from.is_active()) {
        return true;
    }
    matches!(
        (from, to),
        (Core, Established)
            | (StrategicPartner, Core)
            | (Target, Potential)
            | (Problem, Established)
            | (Exited, Potential)
    )
}

/// Whether `from` → `to` is one step up the main chain: the upgrade that earns credit.
pub fn is_upgrade(from: LifecycleStage, to: LifecycleStage) -> bool {
    match (from.chain_position(), to.chain_position()) {
        (Some(f), Some(t)) => t == f + 1,
        _ => false,
    }
}

code_enum! {
    /// The corporate tier (分层): the level of the tree that markets and serves the customer.
    pub enum CorporateTier {
        /// Served by head office.
        HeadOffice => "head_office",
        /// Served by a tier-1 branch.
        Tier1Branch => "tier1_branch",
        /// Served by a tier-2 branch.
        Tier2Branch => "tier2_branch",
        /// Served by a sub-branch.
        SubBranch => "sub_branch",
    }
}

impl CorporateTier {
    /// The branch level that serves customers of this tier.
    pub const fn branch_level(self) -> BranchLevel {
        match self {
            Self::HeadOffice => BranchLevel::HeadOffice,
            Self::Tier1Branch => BranchLevel::Tier1Branch,
            Self::Tier2Branch => BranchLevel::Tier2Branch,
            Self::SubBranch => BranchLevel::SubBranch,
        }
    }
}

code_enum! {
    /// The retail wealth tier, by financial assets under management.
    pub enum WealthTier {
        /// Mass market.
        Mass => "mass",
        /// VIP (贵宾).
        Vip => "vip",
        /// Platinum (理财白金).
        Platinum => "platinum",
        /// Private banking (私人银行).
        PrivateBanking => "private_banking",
    }
}

/// Invalid wealth-tier thresholds.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WealthThresholdError {
    /// The thresholds are not strictly increasing and positive, or not in one currency.
    #[error("wealth tier thresholds must be positive, strictly increasing and in one currency")]
    NotIncreasing,
}

/// The AUM thresholds of the wealth tiers (configuration). An AUM at or above a threshold
/// reaches that tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WealthTierThresholds {
    vip: Money,
    platinum: Money,
    private_banking: Money,
}

impl WealthTierThresholds {
    /// Validates thresholds: positive, strictly increasing, one currency.
    pub fn new(
        vip: Money,
        platinum: Money,
        private_banking: Money,
    ) -> Result<Self, WealthThresholdError> {
        let one_currency = vip.currency() == platinum.currency()
            && platinum.currency() == private_banking.currency();
        let increasing = 0 < vip.minor_units()
            && vip.minor_units() < platinum.minor_units()
            && platinum.minor_units() < private_banking.minor_units();
        if one_currency && increasing {
            Ok(Self {
                vip,
                platinum,
                private_banking,
            })
        } else {
            Err(WealthThresholdError::NotIncreasing)
        }
    }

    /// The minimum AUM of a tier; `None` for mass, which has no minimum.
    pub fn threshold(&self, tier: WealthTier) -> Option<Money> {
        match tier {
            WealthTier::Mass => None,
            WealthTier::Vip => Some(self.vip),
            WealthTier::Platinum => Some(self.platinum),
            WealthTier::PrivateBanking => Some(self.private_banking),
        }
    }

    /// The tier of an AUM; fails when the AUM is in another currency.
    pub fn tier_for(&self, aum: Money) -> Result<WealthTier, MoneyError> {
        let at_least = |threshold: Money| {
            aum.checked_sub(threshold)
                .map(|difference| !difference.is_negative())
        };
        Ok(if at_least(self.private_banking)? {
            WealthTier::PrivateBanking
        } else if at_least(self.platinum)? {
            WealthTier::Platinum
        } else if at_least(self.vip)? {
            WealthTier::Vip
        } else {
            WealthTier::Mass
        })
    }
}

impl Default for WealthTierThresholds {
    /// DOMAIN.md defaults: VIP ≥ RMB 500k, platinum ≥ RMB 3M, private banking ≥ RMB 8M.
    fn default() -> Self {
        let rmb = |yuan: i64| Money::from_minor(Currency::CNY, yuan * 100);
        Self {
            vip: rmb(500_000),
            platinum: rmb(3_000_000),
            private_banking: rmb(8_000_000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LifecycleStage::*;

    /// The allowed transitions of DOMAIN.md §2, listed by hand.
    const ALLOWED: &[(LifecycleStage, LifecycleStage)] = &[
        // one step up the main chain
        (Potential, Target),
        (Target, New),
        (New, Established),
        (Established, Core),
        (Core, StrategicPartner),
        // one step down from core or strategic
        (Core, Established),
        (StrategicPartner, Core),
        // target → potential
        (Target, Potential),
        // any active stage → problem
        (New, Problem),
        (Established, Problem),
        (Core, Problem),
        (StrategicPartner, Problem),
        // problem → established or exited
        (Problem, Established),
        // any stage → exited (problem → exited included)
        (Potential, Exited),
        (Target, Exited),
        (New, Exited),
        (Established, Exited),
        (Core, Exited),
        (StrategicPartner, Exited),
        (Problem, Exited),
        // win-back
        (Exited, Potential),
    ];

    #[test]
    fn lifecycle_transitions_are_exactly_the_listed_ones() {
        assert_eq!(LifecycleStage::ALL.len(), 8);
        let mut allowed = 0;
        for &from in LifecycleStage::ALL {
            for &to in LifecycleStage::ALL {
                let expected = ALLOWED.contains(&(from, to));
                assert_eq!(can_transition(from, to), expected, "{from} -> {to}");
                assert_eq!(from.can_transition_to(to), expected);
                allowed += usize::from(expected);
            }
        }
        assert_eq!(allowed, ALLOWED.len());
        assert_eq!(allowed, 21);
    }

    #[test]
    fn notable_refusals() {
        assert!(!can_transition(Potential, New), "no skipping up");
        assert!(!can_transition(Core, New), "only one step down");
        assert!(!can_transition(Established, New), "no step down below core");
        assert!(
            !can_transition(Potential, Problem),
            "a prospect is not a problem customer"
        );
        assert!(!can_transition(Problem, Core));
        assert!(!can_transition(Problem, Potential));
        assert!(!can_transition(Exited, Target));
        for &stage in LifecycleStage::ALL {
            assert!(!can_transition(stage, stage), "{stage}");
        }
    }

    #[test]
    fn upgrades_are_one_step_up_the_main_chain() {
        assert!(is_upgrade(New, Established));
        assert!(is_upgrade(Core, StrategicPartner));
        assert!(!is_upgrade(Problem, Established));
        assert!(!is_upgrade(Potential, New));
        assert!(!is_upgrade(Core, Established));
        assert_eq!(StrategicPartner.chain_position(), Some(5));
        assert_eq!(Problem.chain_position(), None);
    }

    /// ISO 7064 MOD 11-2 from its definition: weights 2^(17-i) mod 11, check value
    /// (12 - sum mod 11) mod 11, with 10 written as X.
    fn mod11_2(body: &str) -> char {
        let sum: u64 = body
            .chars()
            .enumerate()
            .map(|(i, c)| u64::from(c.to_digit(10).unwrap()) * (2u64.pow(17 - i as u32) % 11))
            .sum();
        match (12 - sum % 11) % 11 {
            10 => 'X',
            v => char::from_digit(v as u32, 10).unwrap(),
        }
    }

    #[test]
    fn resident_id_check_character() {
        // Published example (GB 11643-1999).
        assert_eq!(validate_resident_id("11010519491231002X"), Ok(()));
        assert_eq!(resident_id_check_char("11010519491231002"), Some('X'));
        for body in [
            "44030419900307123",
            "31011519851020001",
            "65010220000229456",
            "11010119700101000",
        ] {
            let check = mod11_2(body);
            assert_eq!(resident_id_check_char(body), Some(check), "{body}");
            let id = format!("{body}{check}");
            assert_eq!(validate_resident_id(&id), Ok(()), "{id}");
            for wrong in "0123456789X".chars().filter(|c| *c != check) {
                assert_eq!(
                    validate_resident_id(&format!("{body}{wrong}")),
                    Err(IdentityError::CheckCharacter(IdentityType::ResidentId))
                );
            }
        }
        let kind = IdentityType::ResidentId;
        assert!(matches!(
            validate_resident_id("1101051949123100"),
            Err(IdentityError::Length { .. })
        ));
        assert_eq!(
            validate_resident_id("11010519491231002x"),
            Err(IdentityError::Character(kind))
        );
        assert_eq!(
            validate_resident_id("1101051949123100AX"),
            Err(IdentityError::Character(kind))
        );
        assert!(validate_resident_id("11010519491231002人").is_err());
        assert_eq!(
            validate_resident_id("人1010519491231002X"),
            Err(IdentityError::Character(kind))
        );
        // A valid check character over an impossible birth date (1949-13-31).
        let body = "11010519491331002";
        let id = format!("{body}{}", mod11_2(body));
        assert_eq!(validate_resident_id(&id), Err(IdentityError::BirthDate));
        assert_eq!(resident_id_check_char("1101051949123100"), None);
    }

    /// GB 32100 from its definition: weights 3^(i) mod 31, check (31 - sum mod 31) mod 31.
    fn gb32100(body: &str) -> char {
        let alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
        let sum: usize = body
            .chars()
            .enumerate()
            .map(|(i, c)| alphabet.find(c).unwrap() * (3usize.pow(i as u32) % 31))
            .sum();
        alphabet.chars().nth((31 - sum % 31) % 31).unwrap()
    }

    #[test]
    fn unified_social_credit_code_check_character() {
        // The example of GB 32100-2015.
        assert_eq!(validate_uscc("91350100M000100Y43"), Ok(()));
        assert_eq!(uscc_check_char("91350100M000100Y4"), Some('3'));
        for body in [
            "91110000100000000",
            "12100000400000000",
            "5131010MA1FL00000",
            "Y1440300MA5D0000A",
        ] {
            let check = gb32100(body);
            assert_eq!(uscc_check_char(body), Some(check), "{body}");
            assert_eq!(validate_uscc(&format!("{body}{check}")), Ok(()));
            let wrong = if check == '0' { '1' } else { '0' };
            assert_eq!(
                validate_uscc(&format!("{body}{wrong}")),
                Err(IdentityError::CheckCharacter(
                    IdentityType::UnifiedSocialCreditCode
                ))
            );
        }
        let kind = IdentityType::UnifiedSocialCreditCode;
        // I, O, Z, S and V are not in the alphabet.
        for bad in [
            "91350100I000100Y43",
            "91350100M000100O43",
            "91350100m000100y43",
        ] {
            assert_eq!(
                validate_uscc(bad),
                Err(IdentityError::Character(kind)),
                "{bad}"
            );
        }
        assert!(matches!(
            validate_uscc("91350100M000100Y4"),
            Err(IdentityError::Length { .. })
        ));
        assert_eq!(uscc_check_char("91350100M000100S4"), None);
    }

    #[test]
    fn identity_numbers_are_normalised_per_type() {
        use IdentityType as T;
        assert_eq!(
            normalize_identity_number(T::ResidentId, " 11010519491231002x "),
            Ok("11010519491231002X".to_owned())
        );
        assert_eq!(
            normalize_identity_number(T::UnifiedSocialCreditCode, "91350100m000100y43"),
            Ok("91350100M000100Y43".to_owned())
        );
        assert_eq!(
            normalize_identity_number(T::Passport, "e1234567"),
            Ok("E1234567".to_owned())
        );
        assert_eq!(
            normalize_identity_number(T::Passport, "  "),
            Err(IdentityError::Empty(T::Passport))
        );
        assert_eq!(
            normalize_identity_number(T::HkMacauPermit, "H-123"),
            Err(IdentityError::Character(T::HkMacauPermit))
        );
        assert!(matches!(
            normalize_identity_number(T::TaiwanPermit, &"1".repeat(65)),
            Err(IdentityError::Length {
                expected: 64,
                actual: 65,
                ..
            })
        ));
        assert_eq!(
            normalize_identity_number(T::Other, "军官证 No.1"),
            Ok("军官证 NO.1".to_owned())
        );
        assert!(normalize_identity_number(T::Other, "a\nb").is_err());
        assert!(normalize_identity_number(T::ResidentId, "110105194912310021").is_err());
        // Errors never echo the number.
        let err = normalize_identity_number(T::ResidentId, "110105194912310021").unwrap_err();
        assert!(!err.to_string().contains("1101"));
    }

    #[test]
    fn corporate_tiers_map_to_branch_levels() {
        let levels: Vec<BranchLevel> = CorporateTier::ALL
            .iter()
            .map(|t| t.branch_level())
            .collect();
        assert_eq!(levels, &BranchLevel::ALL[..4]);
        assert_eq!("tier1_branch".parse(), Ok(CorporateTier::Tier1Branch));
    }

    #[test]
    fn wealth_tiers_by_aum() {
        let t = WealthTierThresholds::default();
        let rmb = |yuan: i64| Money::from_minor(Currency::CNY, yuan * 100);
        assert_eq!(t.tier_for(rmb(0)), Ok(WealthTier::Mass));
        assert_eq!(
            t.tier_for(Money::from_minor(Currency::CNY, 49_999_999)),
            Ok(WealthTier::Mass)
        );
        assert_eq!(t.tier_for(rmb(500_000)), Ok(WealthTier::Vip));
        assert_eq!(t.tier_for(rmb(3_000_000)), Ok(WealthTier::Platinum));
        assert_eq!(t.tier_for(rmb(7_999_999)), Ok(WealthTier::Platinum));
        assert_eq!(t.tier_for(rmb(8_000_000)), Ok(WealthTier::PrivateBanking));
        assert!(t.tier_for(Money::from_minor(Currency::USD, 1)).is_err());
        assert_eq!(
            WealthTierThresholds::new(rmb(3), rmb(2), rmb(4)),
            Err(WealthThresholdError::NotIncreasing)
        );
        assert!(WealthTierThresholds::new(rmb(0), rmb(2), rmb(4)).is_err());
        assert!(
            WealthTierThresholds::new(rmb(1), Money::from_minor(Currency::USD, 200), rmb(4))
                .is_err()
        );
        let custom = WealthTierThresholds::new(rmb(1), rmb(2), rmb(3)).unwrap();
        assert_eq!(custom.tier_for(rmb(2)), Ok(WealthTier::Platinum));
        assert_eq!(WealthTier::PrivateBanking.as_str(), "private_banking");
    }
}
