//! The business calendar (DOMAIN.md §1 "Time"): the bank's timezone (default Asia/Shanghai),
//! the business date of an instant, working days — weekends are off unless listed as make-up
//! working days (调休), listed holidays are off even on weekdays — working-day arithmetic for
//! service-level timers, and the calendar-month [`Period`] that every monthly figure belongs to.
//! Nothing here reads the clock: instants are passed in.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Bound::{Excluded, Included};
use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The default business timezone.
pub const DEFAULT_TIMEZONE: Tz = Tz::Asia__Shanghai;

/// Errors of the calendar and of periods.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    /// A date listed both as a holiday and as a make-up working day.
    #[error("{0} is listed both as a holiday and as a make-up working day")]
    HolidayAndMakeupDay(NaiveDate),
    /// A make-up working day on a weekday (it would change nothing: likely a data error).
    #[error("make-up working day {0} is not a Saturday or Sunday")]
    MakeupDayNotWeekend(NaiveDate),
    /// A result beyond the dates that can be represented.
    #[error("date out of range")]
    OutOfRange,
    /// Not an IANA timezone name.
    #[error("unknown timezone {0:?}")]
    UnknownTimezone(String),
    /// Not a `YYYY-MM` period.
    #[error("invalid period {0:?}: expected YYYY-MM")]
    InvalidPeriod(String),
}

/// Parses an IANA timezone name such as `Asia/Shanghai`.
pub fn parse_timezone(name: &str) -> Result<Tz, CalendarError> {
    name.parse()
        .map_err(|_| CalendarError::UnknownTimezone(name.chars().take(64).collect()))
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The bank's calendar: a timezone, holidays and make-up working days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessCalendar {
    tz: Tz,
    holidays: BTreeSet<NaiveDate>,
    makeup_workdays: BTreeSet<NaiveDate>,
}

impl Default for BusinessCalendar {
    /// Asia/Shanghai, with no holidays: Monday to Friday are working days.
    fn default() -> Self {
        Self {
            tz: DEFAULT_TIMEZONE,
            holidays: BTreeSet::new(),
            makeup_workdays: BTreeSet::new(),
        }
    }
}

impl BusinessCalendar {
    /// A calendar in `tz`. Fails when a date is both a holiday and a make-up day, or a make-up
    /// day is not on a weekend.
    pub fn new(
        tz: Tz,
        holidays: impl IntoIterator<Item = NaiveDate>,
        makeup_workdays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Self, CalendarError> {
        let holidays: BTreeSet<NaiveDate> = holidays.into_iter().collect();
        let makeup_workdays: BTreeSet<NaiveDate> = makeup_workdays.into_iter().collect();
        if let Some(day) = holidays.intersection(&makeup_workdays).next() {
            return Err(CalendarError::HolidayAndMakeupDay(*day));
        }
        if let Some(day) = makeup_workdays.iter().find(|d| !is_weekend(**d)) {
            return Err(CalendarError::MakeupDayNotWeekend(*day));
        }
        Ok(Self {
            tz,
            holidays,
            makeup_workdays,
        })
    }

    /// The business timezone.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The listed holidays.
    pub fn holidays(&self) -> &BTreeSet<NaiveDate> {
        &self.holidays
    }

    /// The listed make-up working days (weekend days worked in exchange for a holiday).
    pub fn makeup_workdays(&self) -> &BTreeSet<NaiveDate> {
        &self.makeup_workdays
    }

    /// The business date of an instant: its calendar date in the bank's timezone.
    pub fn business_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.tz).date_naive()
    }

    /// Whether `date` is a working day: a make-up working day, or a weekday that is not a
    /// holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.makeup_workdays.contains(&date)
            || (!is_weekend(date) && !self.holidays.contains(&date))
    }

    /// The number of working days `d` with `a < d <= b` (the start does not count, the end
    /// does). When `b < a` the result is minus the count for `(b, a]`, so
    /// `working_days_between(a, add_working_days(a, n)) == n`. Runs in time proportional to the
    /// listed days in the range, not to its length.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        if b < a {
            return -self.working_days_between(b, a);
        }
        let days = b.signed_duration_since(a).num_days();
        let start = i64::from(a.weekday().num_days_from_monday());
        let partial = (1..=days % 7).filter(|k| (start + k) % 7 < 5).count();
        let weekdays = days / 7 * 5 + partial as i64;
        let holiday_weekdays = self
            .holidays
            .range((Excluded(a), Included(b)))
            .filter(|d| !is_weekend(**d))
            .count();
        let makeup = self
            .makeup_workdays
            .range((Excluded(a), Included(b)))
            .count();
        weekdays - holiday_weekdays as i64 + makeup as i64
    }

    /// The `n`-th working day after `date`. The start date never counts, whether or not it is
    /// a working day; `n = 0` returns `date` itself. Example: from a Friday, `n = 1` is the next
    /// Monday (if it is a working day).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        if n == 0 {
            return Ok(date);
        }
        let at = |k: u64| date.checked_add_days(Days::new(k));
        let count = |k: u64| at(k).map(|d| self.working_days_between(date, d));
        let target = i64::from(n);
        // Every 7 days hold 5 weekdays, and each listed holiday removes at most one.
        let listed = u64::try_from(self.holidays.len()).unwrap_or(u64::MAX);
        let bound = (u64::from(n).saturating_add(listed) / 5 + 1).saturating_mul(7);
        let max = u64::try_from(NaiveDate::MAX.signed_duration_since(date).num_days()).unwrap_or(0);
        let mut hi = bound.min(max);
        if count(hi).is_none_or(|c| c < target) {
            return Err(CalendarError::OutOfRange);
        }
        // Smallest k in [lo, hi] with count(k) >= n; that day is the n-th working day.
        let mut lo = 1;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if count(mid).is_some_and(|c| c >= target) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        at(hi).ok_or(CalendarError::OutOfRange)
    }

    /// The period (calendar month) that `date` falls in.
    pub fn period_of(&self, date: NaiveDate) -> Period {
        Period::containing(date)
    }

    /// The period of an instant, in the bank's timezone.
    pub fn period_at(&self, instant: DateTime<Utc>) -> Period {
        Period::containing(self.business_date(instant))
    }
}

/// A calendar month, the unit of every monthly figure. Text form `YYYY-MM`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    first: NaiveDate,
}

impl Period {
    /// The month `month` (1–12) of `year`.
    pub fn new(year: i32, month: u32) -> Result<Self, CalendarError> {
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(Self::containing)
            .ok_or_else(|| CalendarError::InvalidPeriod(format!("{year:04}-{month:02}")))
    }

    /// The month that contains `date`.
    pub fn containing(date: NaiveDate) -> Self {
        Self {
            // Day 1 exists in every month.
            first: date.with_day(1).unwrap_or(date),
        }
    }

    /// Parses `YYYY-MM` (four-digit year, two-digit month).
    pub fn parse(s: &str) -> Result<Self, CalendarError> {
        let invalid = || CalendarError::InvalidPeriod(s.chars().take(64).collect());
        let bytes = s.as_bytes();
        let shape = bytes.len() == 7
            && bytes[4] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_digit());
        if !shape {
            return Err(invalid());
        }
        let year = s[..4].parse().map_err(|_| invalid())?;
        let month = s[5..].parse().map_err(|_| invalid())?;
        Self::new(year, month).map_err(|_| invalid())
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.first.year()
    }

    /// The month, 1–12.
    pub fn month(&self) -> u32 {
        self.first.month()
    }

    /// The first day of the month.
    pub fn first_day(&self) -> NaiveDate {
        self.first
    }

    /// The last day of the month.
    pub fn last_day(&self) -> NaiveDate {
        // `days()` is always a valid day of this month.
        self.first.with_day(self.days()).unwrap_or(self.first)
    }

    /// The number of days in the month (28–31): the `d` of actual/365 accruals.
    pub fn days(&self) -> u32 {
        match self.month() {
            4 | 6 | 9 | 11 => 30,
            2 if self.first.leap_year() => 29,
            2 => 28,
            _ => 31,
        }
    }

    /// Whether `date` falls in this month.
    pub fn contains(&self, date: NaiveDate) -> bool {
        Self::containing(date) == *self
    }

    /// The month before (`None` only at the start of representable dates).
    pub fn prev(&self) -> Option<Period> {
        self.first
            .checked_sub_months(Months::new(1))
            .map(Self::containing)
    }

    /// The month after (`None` only at the end of representable dates).
    pub fn next(&self) -> Option<Period> {
        self.first
            .checked_add_months(Months::new(1))
            .map(Self::containing)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl fmt::Debug for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Period({self})")
    }
}

impl FromStr for Period {
    type Err = CalendarError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Period {
    type Error = CalendarError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Period> for String {
    fn from(p: Period) -> Self {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// China 2025 National Day and Mid-Autumn: Oct 1–8 off; Sun Sep 28 and Sat Oct 11 worked.
    fn national_day_2025() -> BusinessCalendar {
        BusinessCalendar::new(
            DEFAULT_TIMEZONE,
            (1..=8).map(|day| d(2025, 10, day)),
            [d(2025, 9, 28), d(2025, 10, 11)],
        )
        .unwrap()
    }

    fn brute_force_between(cal: &BusinessCalendar, a: NaiveDate, b: NaiveDate) -> i64 {
        let (lo, hi, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
        sign * lo
            .iter_days()
            .skip(1)
            .take_while(|x| *x <= hi)
            .filter(|x| cal.is_working_day(*x))
            .count() as i64
    }

    #[test]
    fn national_day_week_2025() {
        let cal = national_day_2025();
        assert!(!cal.is_working_day(d(2025, 9, 27)), "Saturday");
        assert!(cal.is_working_day(d(2025, 9, 28)), "make-up Sunday");
        assert!(cal.is_working_day(d(2025, 9, 30)));
        for day in 1..=8 {
            assert!(!cal.is_working_day(d(2025, 10, day)), "Oct {day}");
        }
        assert!(cal.is_working_day(d(2025, 10, 9)));
        assert!(cal.is_working_day(d(2025, 10, 10)));
        assert!(cal.is_working_day(d(2025, 10, 11)), "make-up Saturday");
        assert!(!cal.is_working_day(d(2025, 10, 12)), "Sunday");

        assert_eq!(cal.add_working_days(d(2025, 9, 26), 1), Ok(d(2025, 9, 28)));
        assert_eq!(cal.add_working_days(d(2025, 9, 30), 1), Ok(d(2025, 10, 9)));
        assert_eq!(cal.add_working_days(d(2025, 9, 30), 3), Ok(d(2025, 10, 11)));
        assert_eq!(cal.add_working_days(d(2025, 9, 30), 4), Ok(d(2025, 10, 13)));
        assert_eq!(cal.add_working_days(d(2025, 10, 3), 1), Ok(d(2025, 10, 9)));
        assert_eq!(cal.add_working_days(d(2025, 10, 3), 0), Ok(d(2025, 10, 3)));
        assert_eq!(cal.working_days_between(d(2025, 9, 30), d(2025, 10, 11)), 3);
        assert_eq!(
            cal.working_days_between(d(2025, 10, 11), d(2025, 9, 30)),
            -3
        );
        assert_eq!(cal.working_days_between(d(2025, 10, 1), d(2025, 10, 8)), 0);
        assert_eq!(cal.working_days_between(d(2025, 10, 1), d(2025, 10, 1)), 0);
        // September 2025 has 22 weekdays, plus the make-up Sunday.
        assert_eq!(cal.working_days_between(d(2025, 8, 31), d(2025, 9, 30)), 23);
    }

    #[test]
    fn arithmetic_agrees_with_counting_day_by_day() {
        let cal = national_day_2025();
        let start = d(2025, 9, 1);
        for i in 0..60 {
            let a = start + Days::new(i);
            for j in 0..60 {
                let b = start + Days::new(j);
                assert_eq!(
                    cal.working_days_between(a, b),
                    brute_force_between(&cal, a, b),
                    "{a} {b}"
                );
            }
            for n in 0..30 {
                let due = cal.add_working_days(a, n).unwrap();
                assert_eq!(cal.working_days_between(a, due), i64::from(n), "{a} + {n}");
                if n > 0 {
                    assert!(cal.is_working_day(due));
                    assert!(due > a);
                }
            }
        }
    }

    #[test]
    fn default_calendar_is_monday_to_friday_in_shanghai() {
        let cal = BusinessCalendar::default();
        assert_eq!(cal.timezone(), DEFAULT_TIMEZONE);
        assert!(cal.is_working_day(d(2025, 10, 1)));
        assert!(!cal.is_working_day(d(2025, 10, 4)));
        // Friday + 1 is Monday; a Saturday + 1 is Monday too.
        assert_eq!(cal.add_working_days(d(2025, 10, 3), 1), Ok(d(2025, 10, 6)));
        assert_eq!(cal.add_working_days(d(2025, 10, 4), 1), Ok(d(2025, 10, 6)));
        assert_eq!(
            cal.add_working_days(d(2025, 10, 3), 10),
            Ok(d(2025, 10, 17))
        );
        // About four centuries of working days in one call, computed without day-by-day walking.
        assert_eq!(
            cal.working_days_between(d(2000, 1, 1), d(2400, 1, 1)),
            brute_force_between(&cal, d(2000, 1, 1), d(2400, 1, 1))
        );
        let far = cal.add_working_days(d(2025, 1, 1), 100_000).unwrap();
        assert_eq!(cal.working_days_between(d(2025, 1, 1), far), 100_000);
        // u32::MAX working days is millions of years: beyond the representable dates.
        assert_eq!(
            cal.add_working_days(d(2025, 1, 1), u32::MAX),
            Err(CalendarError::OutOfRange)
        );
        assert_eq!(
            cal.add_working_days(NaiveDate::MAX, 1),
            Err(CalendarError::OutOfRange)
        );
        assert_eq!(
            cal.add_working_days(NaiveDate::MAX - Days::new(3), 5),
            Err(CalendarError::OutOfRange)
        );
    }

    #[test]
    fn calendar_validation() {
        assert_eq!(
            BusinessCalendar::new(DEFAULT_TIMEZONE, [d(2025, 9, 28)], [d(2025, 9, 28)]),
            Err(CalendarError::HolidayAndMakeupDay(d(2025, 9, 28)))
        );
        assert_eq!(
            BusinessCalendar::new(DEFAULT_TIMEZONE, [], [d(2025, 9, 29)]),
            Err(CalendarError::MakeupDayNotWeekend(d(2025, 9, 29)))
        );
        assert_eq!(parse_timezone("Asia/Shanghai"), Ok(DEFAULT_TIMEZONE));
        assert!(parse_timezone("Mars/Olympus").is_err());
    }

    #[test]
    fn business_date_is_in_the_bank_timezone() {
        let cal = national_day_2025();
        let late_utc = Utc.with_ymd_and_hms(2025, 9, 30, 23, 30, 0).unwrap();
        assert_eq!(cal.business_date(late_utc), d(2025, 10, 1));
        assert!(!cal.is_working_day(cal.business_date(late_utc)));
        let early_utc = Utc.with_ymd_and_hms(2025, 9, 30, 15, 59, 59).unwrap();
        assert_eq!(cal.business_date(early_utc), d(2025, 9, 30));
        assert_eq!(cal.period_at(late_utc), Period::new(2025, 10).unwrap());
        assert_eq!(cal.period_at(early_utc), Period::new(2025, 9).unwrap());
        let utc_cal = BusinessCalendar::new(Tz::UTC, [], []).unwrap();
        assert_eq!(utc_cal.business_date(late_utc), d(2025, 9, 30));
    }

    #[test]
    fn periods() {
        let p = Period::parse("2024-02").unwrap();
        assert_eq!((p.year(), p.month()), (2024, 2));
        assert_eq!(p.first_day(), d(2024, 2, 1));
        assert_eq!(p.last_day(), d(2024, 2, 29));
        assert_eq!(p.days(), 29);
        assert_eq!(Period::new(2025, 2).unwrap().days(), 28);
        assert_eq!(Period::new(1900, 2).unwrap().days(), 28);
        assert_eq!(Period::new(2000, 2).unwrap().days(), 29);
        assert_eq!(Period::new(2025, 4).unwrap().last_day(), d(2025, 4, 30));
        assert_eq!(Period::new(2025, 12).unwrap().last_day(), d(2025, 12, 31));
        assert_eq!(p.to_string(), "2024-02");
        assert_eq!(p.prev(), Some(Period::new(2024, 1).unwrap()));
        assert_eq!(
            Period::new(2025, 1).unwrap().prev(),
            Some(Period::new(2024, 12).unwrap())
        );
        assert_eq!(
            Period::new(2025, 12).unwrap().next(),
            Some(Period::new(2026, 1).unwrap())
        );
        assert_eq!(Period::containing(NaiveDate::MAX).next(), None);
        assert_eq!(Period::containing(NaiveDate::MIN).prev(), None);
        assert!(p.contains(d(2024, 2, 29)) && !p.contains(d(2024, 3, 1)));
        assert_eq!(
            national_day_2025().period_of(d(2025, 10, 31)),
            Period::new(2025, 10).unwrap()
        );
        assert!(Period::new(2025, 1).unwrap() < Period::new(2025, 2).unwrap());
        assert!(Period::new(2024, 12).unwrap() < Period::new(2025, 1).unwrap());
        for bad in [
            "2025-13",
            "2025-00",
            "2025-1",
            "25-01",
            "2025/01",
            "2025-01-01",
            "+025-01",
            "",
            "２０２５-01",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"2024-02\"");
        assert_eq!(serde_json::from_str::<Period>("\"2024-02\"").unwrap(), p);
    }
}
