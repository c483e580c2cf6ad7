//! Money as integer minor units (cents) plus a currency: no floating point anywhere.

use serde::{Deserialize, Serialize};

use super::Currency;
use crate::DomainError;

/// A non-negative amount of money in minor units (serialised `{"cents": 4500, "currency": "EUR"}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    cents: i64,
    currency: Currency,
}

impl Money {
    /// Build an amount; negative amounts and amounts above 10 000 000.00 are refused.
    pub fn new(cents: i64, currency: Currency) -> Result<Self, DomainError> {
        if cents < 0 {
            return Err(DomainError::invalid(
                "price_cents",
                "an amount cannot be negative",
            ));
        }
        if cents > 1_000_000_000 {
            return Err(DomainError::invalid(
                "price_cents",
                "an amount is at most 10 000 000.00",
            ));
        }
        Ok(Money { cents, currency })
    }

    /// Parse from the wire form (`price_cents` + `currency` code).
    pub fn parse(cents: i64, currency: &str) -> Result<Self, DomainError> {
        Money::new(cents, Currency::parse(currency)?)
    }

    /// The amount in minor units.
    pub fn cents(&self) -> i64 {
        self.cents
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{:02} {}",
            self.cents / 100,
            self.cents % 100,
            self.currency
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_keeps_minor_units_and_currency() {
        let price = Money::parse(4500, "eur").unwrap();
        assert_eq!(price.cents(), 4500);
        assert_eq!(price.to_string(), "45.00 EUR");
        assert_eq!(
            serde_json::to_value(price).unwrap(),
            serde_json::json!({"cents": 4500, "currency": "EUR"})
        );
    }

    #[test]
    fn a_negative_amount_is_refused() {
        assert_eq!(
            Money::parse(-1, "EUR").unwrap_err().field(),
            Some("price_cents")
        );
        assert_eq!(
            Money::parse(1, "XYZ").unwrap_err().field(),
            Some("currency")
        );
    }
}
