//! Drugs and drug classes, and where a text names them.
//!
//! One Aho-Corasick automaton holds every name (generic, brand, synonym, class alias), so
//! finding all the drugs of an answer is one pass over it whatever the size of the lists.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rustc_hash::{FxHashMap, FxHashSet};

use std::sync::Arc;

use super::dose_language::DoseLanguage;
use super::products::Products;
use crate::domains::files::PackDir;
use crate::domains::spec::DrugEntities;
use crate::domains::table::Table;
use crate::domains::text::is_word_char;
use crate::{Error, Result};

/// A drug or a class, as one small number: drugs first, then classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityId(pub u32);

/// A place in a text that names a drug or a class. Offsets are bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mention {
    pub entity: EntityId,
    pub start: usize,
    pub end: usize,
}

pub struct DrugIndex {
    /// Canonical names of drugs (`0..drug_count`) then class labels.
    names: Vec<String>,
    /// Machine names of classes (`nsaids`), indexed by `id - drug_count`.
    class_slugs: Vec<String>,
    drug_count: u32,
    classes_of: Vec<Vec<EntityId>>,
    by_name: FxHashMap<String, EntityId>,
    automaton: AhoCorasick,
    /// What each pattern names: one drug, or every ingredient of a combination product.
    pattern_entities: Vec<Vec<EntityId>>,
    products: Products,
    /// How the pack's texts state doses.
    language: Arc<DoseLanguage>,
}

impl DrugIndex {
    /// Loads the name and class tables of a pack (paths relative to `dir`).
    pub fn load(dir: &PackDir, spec: &DrugEntities) -> Result<DrugIndex> {
        let names = Table::read(&dir.join(&spec.names), &["name", "drug"])?;
        let classes = Table::read(&dir.join(&spec.classes), &["class", "label", "drug"])?;
        let not_drugs: FxHashSet<String> = spec.not_drugs.iter().map(|s| s.to_lowercase()).collect();

        let mut index = DrugIndexBuilder::default();
        for row in names.rows() {
            index.drug(&row.get("drug")?.to_lowercase());
        }
        for row in classes.rows() {
            index.drug(&row.get("drug")?.to_lowercase());
        }
        for members in spec.extra_class_members.values() {
            for m in members {
                index.drug(&m.to_lowercase());
            }
        }
        for (substance, words) in &spec.substances {
            let id = index.drug(&substance.to_lowercase());
            index.patterns.extend(words.iter().map(|w| (w.to_lowercase(), id)));
        }
        let mut class_members: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
        for row in classes.rows() {
            let entry = class_members
                .entry(row.get("class")?.to_string())
                .or_insert_with(|| (row.get("label").unwrap_or_default().to_string(), vec![]));
            entry.1.push(row.get("drug")?.to_lowercase());
        }
        for (class, members) in &spec.extra_class_members {
            let entry = class_members.entry(class.clone()).or_insert_with(|| (class.replace('_', " "), vec![]));
            entry.1.extend(members.iter().map(|m| m.to_lowercase()));
        }
        for (class, (label, members)) in &class_members {
            index.class(class, label, members);
        }
        for (class, aliases) in &spec.class_aliases {
            let Some(&id) = index.classes.get(class.as_str()) else {
                return Err(Error::Pack {
                    path: dir.join("domain.yaml").to_string(),
                    line: None,
                    message: format!("class_aliases names an unknown class {class:?}"),
                });
            };
            for alias in aliases {
                index.patterns.push((alias.to_lowercase(), id));
            }
        }
        for row in names.rows() {
            let name = row.get("name")?.to_lowercase();
            if not_drugs.contains(&name) {
                continue;
            }
            let drug = index.by_name[&row.get("drug")?.to_lowercase()];
            index.patterns.push((name, drug));
        }
        for (name, ingredients) in &spec.combinations {
            let mut ids = Vec::new();
            for drug in ingredients {
                let Some(&id) = index.by_name.get(&drug.to_lowercase()) else {
                    return Err(Error::Pack {
                        path: dir.join("domain.yaml").to_string(),
                        line: None,
                        message: format!("combinations: {name:?} lists an unknown drug {drug:?}"),
                    });
                };
                ids.push(id);
            }
            index.combinations.push((name.to_lowercase(), ids));
        }
        for (name, drug) in &spec.extra_names {
            let Some(&id) = index.by_name.get(&drug.to_lowercase()) else {
                return Err(Error::Pack {
                    path: dir.join("domain.yaml").to_string(),
                    line: None,
                    message: format!("extra_names maps {name:?} to an unknown drug {drug:?}"),
                });
            };
            index.patterns.push((name.to_lowercase(), id));
        }
        let language = Arc::new(DoseLanguage::load(dir, spec.dose_language.as_deref())?);
        let mut built = index.build(language)?;
        if let Some(products) = &spec.products {
            built.products = Products::load(&dir.join(products), &built)?;
        }
        Ok(built)
    }

    /// What a tablet of the pack's products holds.
    pub fn products(&self) -> &Products {
        &self.products
    }

    /// How the pack's texts state doses.
    pub fn language(&self) -> &DoseLanguage {
        &self.language
    }

    pub fn drug_count(&self) -> usize {
        self.drug_count as usize
    }

    pub fn is_class(&self, id: EntityId) -> bool {
        id.0 >= self.drug_count
    }

    /// The canonical name of a drug, or the label of a class.
    pub fn name(&self, id: EntityId) -> &str {
        &self.names[id.0 as usize]
    }

    /// `class:nsaids` for a class, the name for a drug: how data tables refer to entities.
    pub fn key(&self, id: EntityId) -> String {
        if self.is_class(id) {
            format!("class:{}", self.class_slugs[(id.0 - self.drug_count) as usize])
        } else {
            self.names[id.0 as usize].clone()
        }
    }

    /// A drug by canonical name or `class:NAME`.
    pub fn lookup(&self, key: &str) -> Option<EntityId> {
        self.by_name.get(&key.to_lowercase()).copied()
    }

    /// The classes a drug belongs to (none for a class).
    pub fn classes_of(&self, id: EntityId) -> &[EntityId] {
        self.classes_of.get(id.0 as usize).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every drug and class named in `text`, in order, longest names first where they overlap
    /// ("isosorbide mononitrate", not "isosorbide").
    pub fn find(&self, text: &str) -> Vec<Mention> {
        let bytes = text.as_bytes();
        self.automaton
            .find_iter(text)
            .filter(|m| {
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                // "NSAIDs" and "Tylenol's" still name the entity; "Advilium" does not.
                let plural = after == Some('s') && !text[m.end() + 1..].chars().next().is_some_and(is_word_char);
                let possessive = bytes.get(m.end()) == Some(&b'\'');
                // "non-alcoholic drinks" name what they are not.
                let negated_prefix = text[..m.start()].to_ascii_lowercase().ends_with("non-");
                !before.is_some_and(is_word_char)
                    && !negated_prefix
                    && (!after.is_some_and(is_word_char) || plural || possessive)
            })
            .flat_map(|m| {
                self.pattern_entities[m.pattern().as_usize()].iter().map(move |&entity| Mention {
                    entity,
                    start: m.start(),
                    end: m.end(),
                })
            })
            .collect()
    }
}

#[derive(Default)]
struct DrugIndexBuilder {
    names: Vec<String>,
    slugs: Vec<String>,
    labels: Vec<String>,
    by_name: FxHashMap<String, EntityId>,
    classes: FxHashMap<String, EntityId>,
    members: Vec<(EntityId, Vec<String>)>,
    patterns: Vec<(String, EntityId)>,
    combinations: Vec<(String, Vec<EntityId>)>,
}

impl DrugIndexBuilder {
    fn drug(&mut self, name: &str) -> EntityId {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        let id = EntityId(self.names.len() as u32);
        self.names.push(name.to_string());
        self.by_name.insert(name.to_string(), id);
        self.patterns.push((name.to_string(), id));
        id
    }

    /// Classes are numbered after every drug, so drugs must all be known first.
    fn class(&mut self, slug: &str, label: &str, members: &[String]) {
        let id = EntityId((self.names.len() + self.slugs.len()) as u32);
        self.slugs.push(slug.to_string());
        self.labels.push(label.to_string());
        self.classes.insert(slug.to_string(), id);
        self.members.push((id, members.to_vec()));
    }

    fn build(mut self, language: Arc<DoseLanguage>) -> Result<DrugIndex> {
        let drug_count = self.names.len() as u32;
        let mut classes_of = vec![Vec::new(); self.names.len()];
        for (class, members) in &self.members {
            for m in members {
                if let Some(&drug) = self.by_name.get(m) {
                    if !classes_of[drug.0 as usize].contains(class) {
                        classes_of[drug.0 as usize].push(*class);
                    }
                }
            }
        }
        for (slug, &id) in &self.classes {
            self.by_name.insert(format!("class:{slug}"), id);
        }
        self.names.append(&mut self.labels);
        // One pattern per distinct name; combination products first, then the first owner wins.
        let mut seen = FxHashSet::default();
        let patterns: Vec<(String, Vec<EntityId>)> = std::mem::take(&mut self.combinations)
            .into_iter()
            .chain(self.patterns.drain(..).map(|(name, id)| (name, vec![id])))
            .filter(|(name, _)| !name.is_empty() && seen.insert(name.clone()))
            .collect();
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns.iter().map(|(name, _)| name.as_str()))
            .map_err(|e| Error::Internal(format!("drug name automaton: {e}")))?;
        Ok(DrugIndex {
            names: self.names,
            class_slugs: self.slugs,
            drug_count,
            classes_of,
            by_name: self.by_name,
            automaton,
            pattern_entities: patterns.into_iter().map(|(_, ids)| ids).collect(),
            products: Products::default(),
            language,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// The shipped healthcare pack's drug index, loaded once for all tests.
    pub(crate) fn healthcare() -> &'static DrugIndex {
        static INDEX: OnceLock<DrugIndex> = OnceLock::new();
        INDEX.get_or_init(|| {
            let dir = crate::domains::tests::pack_dir("healthcare");
            let spec = crate::domains::tests::spec("healthcare");
            DrugIndex::load(&PackDir::Folder(dir), spec.entities.drugs.as_ref().unwrap()).unwrap()
        })
    }

    fn named(text: &str) -> Vec<String> {
        let index = healthcare();
        index.find(text).into_iter().map(|m| index.key(m.entity)).collect()
    }

    #[test]
    fn brands_generics_and_classes_are_found() {
        assert_eq!(named("Tylenol 500 mg and Advil"), ["acetaminophen", "ibuprofen"]);
        assert_eq!(named("She takes ZOLOFT daily; avoid NSAIDs."), ["sertraline", "class:nsaids"]);
        assert_eq!(named("isosorbide mononitrate 30 mg"), ["isosorbide mononitrate"]);
        assert_eq!(named("Lasix's effect"), ["furosemide"]);
        assert!(named("Advilium and paracetamolx").is_empty());
    }

    #[test]
    fn class_membership_comes_from_the_thesaurus() {
        let index = healthcare();
        let sertraline = index.lookup("sertraline").unwrap();
        let ssris = index.lookup("class:ssris").unwrap();
        assert!(index.classes_of(sertraline).contains(&ssris));
        assert!(index.is_class(ssris));
        assert_eq!(index.key(ssris), "class:ssris");
        let hydrocodone = index.lookup("hydrocodone").unwrap();
        assert!(index.classes_of(hydrocodone).contains(&index.lookup("class:opioids").unwrap()));
    }
}
