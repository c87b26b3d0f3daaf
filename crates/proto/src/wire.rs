//! Wire ↔ calendar conversions that every service makes the same way at its edge: `v1::Date` to
//! and from a calendar date (refusing years outside 1900–9999 and impossible days, with a message
//! that says which), and an instant to a protobuf timestamp.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::v1;

/// A wire date to a calendar date; the error says what is wrong with it.
pub fn date_from_proto(date: &v1::Date) -> Result<NaiveDate, String> {
    if !(1900..=9999).contains(&date.year) {
        return Err(format!("year {} is outside 1900..=9999", date.year));
    }
    let month = u32::try_from(date.month).map_err(|_| "month out of range".to_owned())?;
    let day = u32::try_from(date.day).map_err(|_| "day out of range".to_owned())?;
    NaiveDate::from_ymd_opt(date.year, month, day).ok_or_else(|| {
        format!(
            "{}-{:02}-{:02} is not a calendar date",
            date.year, date.month, date.day
        )
    })
}

/// A calendar date to the wire.
pub fn date_to_proto(date: NaiveDate) -> v1::Date {
    v1::Date {
        year: date.year(),
        month: date.month() as i32,
        day: date.day() as i32,
    }
}

/// An instant to a protobuf timestamp.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_dates_say_why() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).expect("leap day");
        assert_eq!(date_from_proto(&date_to_proto(d)), Ok(d));
        let bad = |year, month, day| date_from_proto(&v1::Date { year, month, day });
        assert_eq!(
            bad(2023, 2, 29),
            Err("2023-02-29 is not a calendar date".to_owned())
        );
        assert_eq!(
            bad(1899, 1, 1),
            Err("year 1899 is outside 1900..=9999".to_owned())
        );
        assert_eq!(bad(2024, -1, 1), Err("month out of range".to_owned()));
    }

    #[test]
    fn timestamps_keep_the_nanoseconds() {
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_789).expect("instant");
        let t = timestamp(at);
        assert_eq!((t.seconds, t.nanos), (1_700_000_000, 123_456_789));
    }
}
