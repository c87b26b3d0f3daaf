//! Masking of personal data for display (DOMAIN.md §2 "Identity": shown masked unless the
//! caller's role allows the clear value). This module owns the pure masking rules for
//! identity numbers, phone numbers, account numbers, personal names and e-mail addresses. Each
//! masked character becomes one [`MASK`] (`*`), so lengths and layout are kept; surrounding
//! whitespace is trimmed first; the functions never fail and never panic, whatever the input.
//!
//! | Input | Kept | Example |
//! |---|---|---|
//! | identity number, ≥ 11 characters | first 3, last 4 | `110***********002X` |
//! | identity number, 6–10 characters | first 1, last 2 | `E******78` |
//! | identity number, ≤ 5 characters | nothing | `*****` |
//! | phone, ≥ 8 digits | all but the 4 digits before the last 4 | `138****5678` |
//! | phone, 5–7 digits | last 2 digits | `*****67` |
//! | account, ≥ 5 letters/digits | last 4 letters/digits | `**** **** **** 7890` |
//! | name | first character | `张*`, `欧***` |
//! | e-mail | first character of the local part, and the domain | `z*******@example.com` |

/// The masking character.
pub const MASK: char = '*';

/// Keeps the first `head` and last `tail` characters of `chars` and masks the others.
fn keep_ends(chars: &[char], head: usize, tail: usize) -> String {
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i + tail >= n { *c } else { MASK })
        .collect()
}

/// Masks an identity document number (resident ID, passport, permit, credit code, …).
pub fn mask_identity_number(number: &str) -> String {
    let chars: Vec<char> = number.trim().chars().collect();
    match chars.len() {
        n if n >= 11 => keep_ends(&chars, 3, 4),
        n if n >= 6 => keep_ends(&chars, 1, 2),
        n => MASK.to_string().repeat(n),
    }
}

/// Masks the characters selected by `is_unit` (e.g. digits) at the given positions among
/// them, keeping every other character (separators, `+`).
fn mask_units(
    s: &str,
    is_unit: impl Fn(char) -> bool,
    masked: impl Fn(usize, usize) -> bool,
) -> String {
    let trimmed = s.trim();
    let total = trimmed.chars().filter(|c| is_unit(*c)).count();
    let mut index = 0;
    trimmed
        .chars()
        .map(|c| {
            if !is_unit(c) {
                return c;
            }
            let i = index;
            index += 1;
            if masked(i, total) { MASK } else { c }
        })
        .collect()
}

/// Masks a phone number: with 8 or more digits, the 4 digits before the last 4
/// (`13812345678` → `138****5678`, `+86 138 1234 5678` → `+86 138 **** 5678`); with 5–7 digits
/// all but the last 2; with fewer, every digit. Non-digits are kept.
pub fn mask_phone(phone: &str) -> String {
    mask_units(
        phone,
        |c| c.is_ascii_digit(),
        |i, n| match n {
            8.. => i + 8 >= n && i + 4 < n,
            5..=7 => i + 2 < n,
            _ => true,
        },
    )
}

/// Masks an account or card number: every letter and digit but the last 4 (all of them when
/// there are 4 or fewer). Separators are kept.
pub fn mask_account_number(account: &str) -> String {
    mask_units(account, char::is_alphanumeric, |i, n| n <= 4 || i + 4 < n)
}

/// Masks a person's name, keeping its first character (`张三` → `张*`, `欧阳娜娜` → `欧***`,
/// `John Smith` → `J*** *****`). Spaces and the separators `·`, `.` and `-` are kept. A
/// one-character name is fully masked.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    if chars.len() == 1 {
        return MASK.to_string();
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 || c.is_whitespace() || matches!(c, '·' | '.' | '-') {
                *c
            } else {
                MASK
            }
        })
        .collect()
}

/// Masks an e-mail address: the local part like a name, the domain kept
/// (`zhangsan@example.com` → `z*******@example.com`). Without an `@`, masked like a name.
pub fn mask_email(email: &str) -> String {
    let trimmed = email.trim();
    match trimmed.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{domain}", mask_name(local)),
        None => mask_name(trimmed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_numbers() {
        assert_eq!(
            mask_identity_number("11010519491231002X"),
            "110***********002X"
        );
        assert_eq!(
            mask_identity_number(" 91350100M000100Y43 "),
            "913***********0Y43"
        );
        assert_eq!(mask_identity_number("110105491231002"), "110********1002"); // 15-digit ID
        assert_eq!(mask_identity_number("E12345678"), "E******78");
        assert_eq!(mask_identity_number("H1234"), "*****");
        assert_eq!(mask_identity_number(""), "");
        assert_eq!(
            mask_identity_number("军官证第12345678号"),
            "军官证******678号"
        );
    }

    #[test]
    fn phones() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+86 138 1234 5678"), "+86 138 **** 5678");
        assert_eq!(mask_phone("010-12345678"), "010-****5678");
        assert_eq!(mask_phone("12345678"), "****5678");
        assert_eq!(mask_phone("1234567"), "*****67");
        assert_eq!(mask_phone("1234"), "****");
        assert_eq!(mask_phone("n/a"), "n/a");
    }

    #[test]
    fn accounts_names_and_emails() {
        assert_eq!(
            mask_account_number("6222 0212 3456 7890"),
            "**** **** **** 7890"
        );
        assert_eq!(mask_account_number("6222021234567890"), "************7890");
        assert_eq!(mask_account_number("123"), "***");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("张"), "*");
        assert_eq!(mask_name("阿依古丽·买买提"), "阿***·***");
        assert_eq!(mask_name("John Smith"), "J*** *****");
        assert_eq!(mask_name("  "), "");
        assert_eq!(mask_email("zhangsan@example.com"), "z*******@example.com");
        assert_eq!(mask_email("a@b.cn"), "*@b.cn");
        assert_eq!(mask_email("nobody"), "n*****");
    }
}
