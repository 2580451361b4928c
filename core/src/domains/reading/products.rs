//! Products and what one unit of each holds: "Extra Strength Tylenol" is 500 mg of
//! acetaminophen a caplet, "Percocet" 325 mg of acetaminophen a tablet.
//!
//! Patients count tablets, not milligrams ("two Extra Strength every 4 hours", "3 Aleve"), and
//! the commonest acetaminophen overdose is one hidden in a combination product taken alongside
//! plain Tylenol. Both need the amount per unit, which the product name gives.

use std::ops::Range;

use regex::{Regex, RegexSet};

use super::dose::{frequency, unit_count};
use super::dose_language::DoseLanguage;
use crate::domains::files::PackPath;
use crate::domains::reading::drugs::{DrugIndex, EntityId};
use crate::domains::table::Table;
use crate::domains::text::{pattern, sentences};
use crate::Result;

/// One product row: the words that name it and what a unit of it holds of one ingredient.
pub struct Product {
    pub name: String,
    pattern: Regex,
    pub drug: EntityId,
    /// mg of `drug` in one tablet, caplet or capsule.
    pub per_unit_mg: f64,
}

/// The products of a pack, in table order: the more specific names first ("Tylenol Extra
/// Strength" before "Tylenol").
#[derive(Default)]
pub struct Products {
    rows: Vec<Product>,
    any: Option<RegexSet>,
}

/// Where a text names a product.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductMention {
    /// Index of the product row.
    pub product: usize,
    pub range: Range<usize>,
}

/// A daily amount the question says the patient takes of a drug through a product
/// ("Percocet 5/325, one tablet every 6 hours": 1,300 mg of acetaminophen).
#[derive(Debug, Clone, PartialEq)]
pub struct TakenDose {
    pub drug: EntityId,
    pub per_day_mg: f64,
    pub product: usize,
}

impl Products {
    /// Reads a TSV `product, pattern, drug, mg_per_unit, source` (the drug by a name the drug
    /// tables know; the pattern a case-insensitive regular expression).
    pub fn load(path: &PackPath, drugs: &DrugIndex) -> Result<Products> {
        let table = Table::read(path, &["product", "pattern", "drug", "mg_per_unit", "source"])?;
        let mut rows = Vec::new();
        for row in table.rows() {
            let drug = row.get("drug")?;
            let id = drugs.lookup(drug).ok_or_else(|| row.error(format!("{drug:?} is not in the drug names")))?;
            let per_unit_mg = row.number("mg_per_unit")?;
            if per_unit_mg <= 0.0 {
                return Err(row.error("mg_per_unit must be positive".into()));
            }
            let source = row.get("pattern")?;
            let pattern =
                pattern(&format!("(?i){source}")).map_err(|e| row.error(format!("pattern does not compile: {e}")))?;
            row.get("source")?;
            rows.push(Product { name: row.get("product")?.to_string(), pattern, drug: id, per_unit_mg });
        }
        let any = RegexSet::new(rows.iter().map(|p| p.pattern.as_str()))
            .map_err(|e| crate::Error::Internal(format!("product patterns: {e}")))?;
        Ok(Products { rows, any: Some(any) })
    }

    pub fn get(&self, product: usize) -> &Product {
        &self.rows[product]
    }

    /// Every product `text` names, the first matching row winning where names overlap; rows of
    /// one product (one pattern, an ingredient each: Tylenol PM) are all found.
    pub fn find(&self, text: &str) -> Vec<ProductMention> {
        let Some(any) = &self.any else { return vec![] };
        let mut found: Vec<ProductMention> = Vec::new();
        for i in any.matches(text).iter() {
            let pattern = self.rows[i].pattern.as_str();
            for m in self.rows[i].pattern.find_iter(text) {
                let other_name = |f: &ProductMention| self.rows[f.product].pattern.as_str() != pattern;
                if !found.iter().any(|f| other_name(f) && f.range.start < m.end() && m.start() < f.range.end) {
                    found.push(ProductMention { product: i, range: m.range() });
                }
            }
        }
        found
    }

    /// What a question says the patient takes through products: a unit count and a daily
    /// schedule in the product's sentence.
    pub fn taken(&self, lang: &DoseLanguage, question: &str) -> Vec<TakenDose> {
        let mentions = self.find(question);
        if mentions.is_empty() {
            return vec![];
        }
        let mut taken = Vec::new();
        for sentence in sentences(question) {
            for m in mentions.iter().filter(|m| sentence.contains(&m.range.start)) {
                let s = &question[sentence.clone()];
                let (Some(count), Some(f)) = (unit_count(lang, s), frequency(lang, s)) else { continue };
                if !f.is_daily() {
                    continue;
                }
                let product = &self.rows[m.product];
                taken.push(TakenDose {
                    drug: product.drug,
                    per_day_mg: count * product.per_unit_mg * f.per_day,
                    product: m.product,
                });
            }
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use crate::domains::reading::drugs::tests::healthcare;

    #[test]
    fn products_are_found_most_specific_first() {
        let products = healthcare().products();
        let named = |text: &str| -> Vec<String> {
            products.find(text).into_iter().map(|m| products.get(m.product).name.clone()).collect()
        };
        assert_eq!(named("two Extra Strength Tylenol"), ["Tylenol Extra Strength"]);
        assert_eq!(named("I have Advil and some Aleve"), ["Advil", "Aleve"]);
        assert!(named("Tylenol").is_empty(), "plain Tylenol comes in several strengths");
        assert_eq!(named("one Tylenol PM"), ["Tylenol PM", "Tylenol PM (diphenhydramine)"], "both ingredients");
    }

    #[test]
    fn what_a_question_says_is_taken() {
        let index = healthcare();
        let taken = index
            .products()
            .taken(index.language(), "After my hernia repair I'm on Percocet 5/325, 2 tabs every 6 hours.");
        assert_eq!(taken.len(), 1);
        assert_eq!(index.name(taken[0].drug), "acetaminophen");
        assert_eq!(taken[0].per_day_mg, 2600.0);
        assert!(
            index.products().taken(index.language(), "Is Percocet stronger than Norco?").is_empty(),
            "no schedule, no dose"
        );
    }
}
