//! Serde adapter that stores a `serde_json::Value` as JSON text, so that structures
//! holding process parameters can use non-self-describing binary formats (postcard).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Serialises the value as its JSON text.
pub fn serialize<S: Serializer>(v: &serde_json::Value, s: S) -> Result<S::Ok, S::Error> {
    v.to_string().serialize(s)
}

/// Parses the JSON text back.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<serde_json::Value, D::Error> {
    let text = String::deserialize(d)?;
    serde_json::from_str(&text).map_err(serde::de::Error::custom)
}
