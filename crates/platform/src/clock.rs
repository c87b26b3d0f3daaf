//! Time as services see it. A [`Clock`] gives the current instant and, with the bank's
//! [`BusinessCalendar`], today's business date. Production uses the system clock; tests use
//! [`Clock::fixed`] or [`Clock::manual`] to drive date-dependent rules (effective dates, SLAs)
//! without sleeping. [`Clock::shifted`] moves any clock by a fixed offset (the
//! `clock_offset_days` setting of non-production runs).

use std::sync::{Arc, Mutex};

use bankmkt_domain::calendar::BusinessCalendar;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// A source of "now" plus the business calendar.
#[derive(Clone)]
pub struct Clock {
    now: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    calendar: Arc<BusinessCalendar>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock").field("now", &(self.now)()).finish()
    }
}

/// Moves a [`Clock::manual`] clock.
#[derive(Clone, Debug)]
pub struct ClockHand(Arc<Mutex<DateTime<Utc>>>);

impl ClockHand {
    /// Sets the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut now) = self.0.lock() {
            *now = at;
        }
    }
}

impl Clock {
    /// The system clock with `calendar`.
    pub fn system(calendar: BusinessCalendar) -> Clock {
        Clock {
            now: Arc::new(Utc::now),
            calendar: Arc::new(calendar),
        }
    }

    /// A clock stopped at `at`.
    pub fn fixed(at: DateTime<Utc>, calendar: BusinessCalendar) -> Clock {
        Clock {
            now: Arc::new(move || at),
            calendar: Arc::new(calendar),
        }
    }

    /// A clock that tests move with the returned hand.
    pub fn manual(start: DateTime<Utc>, calendar: BusinessCalendar) -> (Clock, ClockHand) {
        let cell = Arc::new(Mutex::new(start));
        let read = cell.clone();
        let clock = Clock {
            now: Arc::new(move || read.lock().map(|t| *t).unwrap_or(start)),
            calendar: Arc::new(calendar),
        };
        (clock, ClockHand(cell))
    }

    /// This clock moved by `offset` (positive: later), for both the instant and the business
    /// date. `bankmkt` applies `clock_offset_days` this way so a non-production run can see
    /// date-driven behaviour (overdue items) without waiting.
    pub fn shifted(self, offset: TimeDelta) -> Clock {
        if offset.is_zero() {
            return self;
        }
        let inner = self.now;
        Clock {
            now: Arc::new(move || {
                let now = inner();
                now.checked_add_signed(offset).unwrap_or(now)
            }),
            calendar: self.calendar,
        }
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        (self.now)()
    }

    /// Today's business date in the bank's timezone.
    pub fn today(&self) -> NaiveDate {
        self.calendar.business_date(self.now())
    }

    /// The business calendar.
    pub fn calendar(&self) -> &BusinessCalendar {
        &self.calendar
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn calendar() -> BusinessCalendar {
        let tz = bankmkt_domain::calendar::parse_timezone("Asia/Shanghai").expect("timezone");
        BusinessCalendar::new(tz, [], []).expect("calendar")
    }

    #[test]
    fn a_shifted_clock_moves_the_instant_and_the_business_date() {
        let at = Utc
            .with_ymd_and_hms(2025, 3, 3, 1, 0, 0)
            .single()
            .expect("instant");
        let (clock, hand) = Clock::manual(at, calendar());
        let later = clock.clone().shifted(TimeDelta::days(30));
        assert_eq!(later.now(), at + TimeDelta::days(30));
        assert_eq!(
            later.today(),
            NaiveDate::from_ymd_opt(2025, 4, 2).expect("date")
        );
        let earlier = clock.clone().shifted(TimeDelta::days(-3650));
        assert_eq!(earlier.now(), at - TimeDelta::days(3650));
        // The shift follows the underlying clock.
        hand.set(at + TimeDelta::hours(5));
        assert_eq!(later.now(), at + TimeDelta::hours(5) + TimeDelta::days(30));
        // No offset is the same clock.
        assert_eq!(clock.clone().shifted(TimeDelta::zero()).now(), clock.now());
    }

    #[test]
    fn a_shifted_system_clock_runs_ahead_of_the_system_clock() {
        let clock = Clock::system(calendar()).shifted(TimeDelta::days(10));
        let ahead = clock.now() - Utc::now();
        assert!(
            ahead > TimeDelta::days(10) - TimeDelta::minutes(1) && ahead <= TimeDelta::days(10),
            "{ahead}"
        );
    }
}
