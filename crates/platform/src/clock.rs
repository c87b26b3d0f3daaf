//! Time as services see it. A [`Clock`] gives the current instant and, with the bank's
//! [`BusinessCalendar`], today's business date. Production uses the system clock; tests use
//! [`Clock::fixed`] or [`Clock::manual`] to drive date-dependent rules (effective dates, SLAs)
//! without sleeping.

use std::sync::{Arc, Mutex};

use bankmkt_domain::calendar::BusinessCalendar;
use chrono::{DateTime, NaiveDate, Utc};

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
