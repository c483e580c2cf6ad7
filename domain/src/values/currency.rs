//! ISO 4217 currency codes.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Active ISO 4217 alphabetic codes.
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB \
BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD \
FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR \
KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR \
MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK \
SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES \
VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

/// A currency, by its three-letter ISO 4217 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// Parse a code (case-insensitive): `"eur"` → `EUR`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let code = input.trim().to_ascii_uppercase();
        let known = code.len() == 3 && ISO_4217.split_whitespace().any(|c| c == code);
        match (known, code.as_bytes()) {
            (true, [a, b, c]) => Ok(Currency([*a, *b, *c])),
            _ => Err(DomainError::invalid(
                "currency",
                format!("not an ISO 4217 currency code: {input:?}"),
            )),
        }
    }

    /// The code, like `EUR`.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.code().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_currency_code_is_upper_cased() {
        assert_eq!(Currency::parse("eur").unwrap().code(), "EUR");
        assert_eq!(
            serde_json::to_string(&Currency::parse("GBP").unwrap()).unwrap(),
            "\"GBP\""
        );
    }

    #[test]
    fn an_unknown_currency_code_is_refused() {
        for bad in ["EU", "EURO", "ABC", ""] {
            assert_eq!(
                Currency::parse(bad).unwrap_err().field(),
                Some("currency"),
                "{bad}"
            );
        }
    }
}
