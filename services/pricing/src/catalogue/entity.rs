//! sea-orm entities of the catalogue: `product` and `price_version`, and the stored form of a fee
//! schedule (JSON of minor units and basis points, independent of the domain type's own serde
//! shape so that a change there never misreads stored rows).

use bankmkt_domain::money::{BasisPoints, Currency, Money};
use bankmkt_domain::pricing::{FeeSchedule, FeeTier};
use serde::{Deserialize, Serialize};

/// `product`: one catalogue product, the latest state.
pub mod product {
    use sea_orm::entity::prelude::*;

    /// One product.
    #[derive(
        Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize,
    )]
    #[sea_orm(table_name = "product")]
    pub struct Model {
        /// Stable product code.
        #[sea_orm(primary_key, auto_increment = false)]
        pub product_id: String,
        /// Display name.
        pub name: String,
        /// Business line code.
        pub line: String,
        /// Product kind code (immutable).
        pub kind: String,
        /// Category code.
        pub category: String,
        /// ISO 4217 currency (immutable).
        pub currency: String,
        /// Whether it can be quoted.
        pub active: bool,
        /// Number of price versions stored; the next one gets this plus one. A guarded update of
        /// it serialises price-version writers of one product.
        pub price_version_count: i64,
        /// Optimistic-concurrency version of the product itself.
        pub version: i64,
        /// Creation time.
        pub create_time: DateTimeUtc,
        /// Last change of the product itself.
        pub update_time: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `price_version`: effective-dated prices and economics of a product; never updated.
pub mod price_version {
    use sea_orm::entity::prelude::*;

    /// One price version.
    #[derive(
        Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize,
    )]
    #[sea_orm(table_name = "price_version")]
    pub struct Model {
        /// Stable id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub price_version_id: String,
        /// The product.
        pub product_id: String,
        /// Version number within the product, from 1.
        pub version: i64,
        /// First day in force.
        pub effective_from: Date,
        /// First day no longer in force; `None` for open-ended.
        pub effective_to: Option<Date>,
        /// Balance products: the list rate in basis points.
        pub list_rate_bps: Option<i32>,
        /// Fee products: the schedule, as [`super::StoredSchedule`] JSON.
        pub fee_schedule: Option<String>,
        /// FTP rate in basis points.
        pub ftp_rate_bps: i32,
        /// Operating-cost ratio, a decimal string.
        pub operating_cost_ratio: String,
        /// Economic-capital ratio, a decimal string.
        pub economic_capital_ratio: String,
        /// Probability of default, a decimal string.
        pub probability_of_default: String,
        /// Loss given default, a decimal string.
        pub loss_given_default: String,
        /// Who created it.
        pub created_by: String,
        /// When.
        pub create_time: DateTimeUtc,
        /// Why.
        pub reason: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The stored form of a fee schedule: every amount in minor units of one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSchedule {
    /// The schedule's currency.
    pub currency: String,
    /// `(volume_from minor units, rate bps)` per tier.
    pub tiers: Vec<(i64, i32)>,
    /// Whole-volume rather than marginal.
    pub whole_volume: bool,
    /// The flat annual fee, minor units.
    pub flat_annual_fee: i64,
    /// The minimum annual fee, minor units.
    pub minimum_annual_fee: Option<i64>,
}

impl StoredSchedule {
    /// The stored form of a validated schedule (every amount in the schedule's currency).
    pub fn from_domain(schedule: &FeeSchedule) -> StoredSchedule {
        StoredSchedule {
            currency: schedule.currency().as_str().to_owned(),
            tiers: schedule
                .tiers
                .iter()
                .map(|t| (t.volume_from.minor_units(), t.rate.value()))
                .collect(),
            whole_volume: schedule.whole_volume,
            flat_annual_fee: schedule.flat_annual_fee.minor_units(),
            minimum_annual_fee: schedule.minimum_annual_fee.map(|m| m.minor_units()),
        }
    }

    /// The domain schedule.
    pub fn to_domain(&self) -> Result<FeeSchedule, String> {
        let currency = Currency::parse(&self.currency)
            .map_err(|e| format!("stored fee schedule currency: {e}"))?;
        Ok(FeeSchedule {
            tiers: self
                .tiers
                .iter()
                .map(|(from, bps)| FeeTier {
                    volume_from: Money::from_minor(currency, *from),
                    rate: BasisPoints::new(*bps),
                })
                .collect(),
            whole_volume: self.whole_volume,
            flat_annual_fee: Money::from_minor(currency, self.flat_annual_fee),
            minimum_annual_fee: self
                .minimum_annual_fee
                .map(|m| Money::from_minor(currency, m)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_round_trip_through_storage() {
        let cny = |fen| Money::from_minor(Currency::CNY, fen);
        let schedule = FeeSchedule {
            tiers: vec![
                FeeTier {
                    volume_from: cny(0),
                    rate: BasisPoints::new(10),
                },
                FeeTier {
                    volume_from: cny(100_000_000),
                    rate: BasisPoints::new(8),
                },
            ],
            whole_volume: true,
            flat_annual_fee: cny(100_000),
            minimum_annual_fee: Some(cny(250_000)),
        };
        let stored = StoredSchedule::from_domain(&schedule);
        let json = serde_json::to_string(&stored).unwrap_or_default();
        let back: StoredSchedule = serde_json::from_str(&json).unwrap_or(StoredSchedule {
            currency: String::new(),
            tiers: vec![],
            whole_volume: false,
            flat_annual_fee: 0,
            minimum_annual_fee: None,
        });
        assert_eq!(back.to_domain(), Ok(schedule));
    }
}
