//! Reading what ingestion stored for one customer: holdings snapshots of a month and
//! transactions in a date range, both keyset-paged. Account numbers are masked unless the caller
//! may see the customer's personal data in clear.

use bankmkt_domain::access::{may_read_customer, may_see_clear_pii};
use bankmkt_domain::masking::mask_account_number;
use bankmkt_domain::org::BranchCode;
use bankmkt_platform::Caller;
use bankmkt_platform::paging::PageRequest;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use sea_orm::entity::prelude::*;
use sea_orm::{Condition, QueryOrder, QuerySelect};

use super::{Customers, StoredCustomer};
use crate::convert::{self, date_from_proto};
use crate::error::{RegistryError, Result};
use crate::ingest::entity::{customer_transaction, holding};

fn money(minor_units: i64) -> Option<v1::Money> {
    Some(v1::Money {
        currency: "CNY".to_owned(),
        minor_units,
    })
}

fn kind_to_proto(kind: &str) -> i32 {
    match kind {
        "asset" => v1::ProductKind::Asset as i32,
        "liability" => v1::ProductKind::Liability as i32,
        "fee" => v1::ProductKind::Fee as i32,
        _ => 0,
    }
}

fn from_name<E>(prefix: &str, code: &str, parse: fn(&str) -> Option<E>) -> Option<E> {
    parse(&format!("{prefix}{}", code.to_ascii_uppercase()))
}

impl Customers {
    /// The stored customer if the caller may read it; and whether it sees PII in clear.
    async fn readable(&self, caller: &Caller, customer_id: &str) -> Result<(StoredCustomer, bool)> {
        let not_found = || RegistryError::NotFound {
            kind: "customer",
            id: customer_id.to_owned(),
        };
        let stored = self.stored(customer_id).await?.ok_or_else(not_found)?;
        let tree = crate::org::branches::tree_as_of(&self.db, self.clock.today())
            .await?
            .ok_or_else(not_found)?;
        let owning = BranchCode::parse(&stored.customer.owning_branch_id)
            .map_err(|e| RegistryError::Internal(e.to_string()))?;
        if !may_read_customer(&caller.roles, caller.branch.as_ref(), &owning, &tree, false) {
            return Err(not_found());
        }
        let clear = may_see_clear_pii(
            &caller.roles,
            &caller.subject,
            &stored.customer.primary_manager_id,
            &stored.customer.backup_manager_id,
        );
        Ok((stored, clear))
    }

    /// `ListHoldings`.
    pub async fn list_holdings(
        &self,
        caller: &Caller,
        request: v1::ListHoldingsRequest,
    ) -> Result<v1::ListHoldingsResponse> {
        let mut v = Violations::new();
        if request.customer_id.is_empty() {
            v.add("customer_id", "is required");
        }
        let period = match &request.period {
            Some(p) if !(1900..=9999).contains(&p.year) || !(1..=12).contains(&p.month) => {
                v.add("period", "must be a real month");
                None
            }
            Some(p) => Some((p.year, p.month)),
            None => None,
        };
        let kind = match request.product_kind {
            0 => None,
            raw => match v1::ProductKind::try_from(raw) {
                Ok(k) => Some(
                    k.as_str_name()
                        .trim_start_matches("PRODUCT_KIND_")
                        .to_ascii_lowercase(),
                ),
                Err(_) => {
                    v.add("product_kind", "must be a known product kind");
                    None
                }
            },
        };
        let filters = format!("{}|{period:?}|{kind:?}", request.customer_id);
        let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
        if !v.is_empty() {
            return Err(v.into());
        }
        let (stored, clear) = self.readable(caller, &request.customer_id).await?;
        let customer_id = stored.customer.customer_id.clone();
        let (year, month) = match period {
            Some(p) => p,
            None => match holding::Entity::find()
                .filter(holding::Column::CustomerId.eq(customer_id.clone()))
                .order_by_desc(holding::Column::PeriodYear)
                .order_by_desc(holding::Column::PeriodMonth)
                .one(&self.db)
                .await?
            {
                Some(latest) => (latest.period_year, latest.period_month),
                None => return Ok(v1::ListHoldingsResponse::default()),
            },
        };
        let mut query = holding::Entity::find()
            .filter(holding::Column::CustomerId.eq(customer_id.clone()))
            .filter(holding::Column::PeriodYear.eq(year))
            .filter(holding::Column::PeriodMonth.eq(month));
        if let Some(k) = kind {
            query = query.filter(holding::Column::ProductKind.eq(k));
        }
        if let Some(after) = &page.after
            && let Some((product, account)) = after.split_once('\n')
        {
            query = query.filter(
                Condition::any()
                    .add(holding::Column::ProductId.gt(product.to_owned()))
                    .add(
                        Condition::all()
                            .add(holding::Column::ProductId.eq(product.to_owned()))
                            .add(holding::Column::AccountId.gt(account.to_owned())),
                    ),
            );
        }
        let mut rows = query
            .order_by_asc(holding::Column::ProductId)
            .order_by_asc(holding::Column::AccountId)
            .limit(page.fetch_limit())
            .all(&self.db)
            .await?;
        let next_page_token =
            page.finish(&mut rows, |h| format!("{}\n{}", h.product_id, h.account_id));
        let holdings = rows
            .into_iter()
            .map(|h| v1::HoldingSnapshot {
                customer: Some(v1::CustomerKey {
                    key: Some(v1::customer_key::Key::CustomerId(h.customer_id.clone())),
                }),
                product_id: h.product_id.clone(),
                account_id: if clear {
                    h.account_id.clone()
                } else {
                    mask_account_number(&h.account_id)
                },
                product_kind: kind_to_proto(&h.product_kind),
                product_category: from_name(
                    "PRODUCT_CATEGORY_",
                    &h.product_category,
                    v1::ProductCategory::from_str_name,
                )
                .map_or(0, |c| c as i32),
                line: from_name("BUSINESS_LINE_", &h.line, v1::BusinessLine::from_str_name)
                    .map_or(0, |l| l as i32),
                period: Some(v1::Period {
                    year: h.period_year,
                    month: h.period_month,
                }),
                source_version: h.source_version,
                period_end_balance: money(h.period_end_balance),
                average_daily_balance: money(h.average_daily_balance),
                customer_rate_bps: h.customer_rate_bps,
                ftp_rate_bps: h.ftp_rate_bps,
                settlement_volume: money(h.settlement_volume),
                payroll_volume: money(h.payroll_volume),
                fx_volume: money(h.fx_volume),
                pos_volume: money(h.pos_volume),
                fee_income: money(h.fee_income),
                operating_cost: money(h.operating_cost),
                expected_loss: money(h.expected_loss),
                economic_capital: money(h.economic_capital),
                facility_limit: money(h.facility_limit),
                undrawn_amount: money(h.undrawn_amount),
                update_time: Some(convert::timestamp(h.update_time)),
            })
            .collect();
        Ok(v1::ListHoldingsResponse {
            holdings,
            next_page_token,
        })
    }

    /// `ListTransactions`: newest first.
    pub async fn list_transactions(
        &self,
        caller: &Caller,
        request: v1::ListTransactionsRequest,
    ) -> Result<v1::ListTransactionsResponse> {
        let mut v = Violations::new();
        if request.customer_id.is_empty() {
            v.add("customer_id", "is required");
        }
        let start = request
            .start_date
            .as_ref()
            .and_then(|d| v.check("start_date", date_from_proto(d)));
        let end = request
            .end_date
            .as_ref()
            .and_then(|d| v.check("end_date", date_from_proto(d)))
            .unwrap_or_else(|| self.clock.today());
        if start.is_some_and(|s| s > end) {
            v.add("start_date", "must not be after end_date");
        }
        let filters = format!("{}|{start:?}|{end}", request.customer_id);
        let page = PageRequest::parse(request.page_size, &request.page_token, &filters, &mut v);
        if !v.is_empty() {
            return Err(v.into());
        }
        let (stored, _) = self.readable(caller, &request.customer_id).await?;
        let mut query = customer_transaction::Entity::find()
            .filter(
                customer_transaction::Column::CustomerId.eq(stored.customer.customer_id.clone()),
            )
            .filter(customer_transaction::Column::TransactionDate.lte(end));
        if let Some(s) = start {
            query = query.filter(customer_transaction::Column::TransactionDate.gte(s));
        }
        if let Some(after) = &page.after
            && let Some((date, id)) = after.split_once('\n')
            && let Ok(date) = date.parse::<chrono::NaiveDate>()
        {
            query = query.filter(
                Condition::any()
                    .add(customer_transaction::Column::TransactionDate.lt(date))
                    .add(
                        Condition::all()
                            .add(customer_transaction::Column::TransactionDate.eq(date))
                            .add(customer_transaction::Column::TransactionId.lt(id.to_owned())),
                    ),
            );
        }
        let mut rows = query
            .order_by_desc(customer_transaction::Column::TransactionDate)
            .order_by_desc(customer_transaction::Column::TransactionId)
            .limit(page.fetch_limit())
            .all(&self.db)
            .await?;
        let next_page_token = page.finish(&mut rows, |t| {
            format!("{}\n{}", t.transaction_date, t.transaction_id)
        });
        let transactions = rows
            .into_iter()
            .map(|t| v1::Transaction {
                customer: Some(v1::CustomerKey {
                    key: Some(v1::customer_key::Key::CustomerId(t.customer_id.clone())),
                }),
                transaction_id: t.transaction_id.clone(),
                source_version: t.source_version,
                transaction_date: Some(convert::date_to_proto(t.transaction_date)),
                amount: money(t.amount),
                direction: if t.direction == "credit" {
                    v1::TransactionDirection::Credit
                } else {
                    v1::TransactionDirection::Debit
                } as i32,
                product_id: t.product_id,
            })
            .collect();
        Ok(v1::ListTransactionsResponse {
            transactions,
            next_page_token,
        })
    }
}
