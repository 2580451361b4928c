//! The tab-separated data files of a pack: a header row, then one record per line.
//! Errors name the file and the line.

use super::files::PackPath;
use crate::{Error, Result};

pub struct Table {
    path: String,
    header: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

/// One record, with its line number for error messages.
pub struct Row<'a> {
    table: &'a Table,
    line: usize,
    cells: &'a [String],
}

impl Table {
    /// Reads `path`, which must have at least the `required` columns.
    pub fn read(path: &PackPath, required: &[&str]) -> Result<Table> {
        let text = path.read_to_string().map_err(|e| Error::Pack {
            path: path.to_string(),
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        Table::parse(&text, &path.to_string(), required)
    }

    pub fn parse(text: &str, path: &str, required: &[&str]) -> Result<Table> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
        let header: Vec<String> = match lines.next() {
            Some((_, l)) => l.split('\t').map(|c| c.trim().to_string()).collect(),
            None => return Err(Error::Pack { path: path.into(), line: None, message: "the table is empty".into() }),
        };
        for column in required {
            if !header.iter().any(|h| h == column) {
                return Err(Error::Pack {
                    path: path.into(),
                    line: Some(1),
                    message: format!("missing column {column:?} (the header has {header:?})"),
                });
            }
        }
        let mut rows = Vec::new();
        for (i, line) in lines {
            let cells: Vec<String> = line.split('\t').map(|c| c.trim().to_string()).collect();
            if cells.len() != header.len() {
                return Err(Error::Pack {
                    path: path.into(),
                    line: Some(i + 1),
                    message: format!("{} cells where the header has {}", cells.len(), header.len()),
                });
            }
            rows.push((i + 1, cells));
        }
        Ok(Table { path: path.into(), header, rows })
    }

    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|(line, cells)| Row { table: self, line: *line, cells })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl Row<'_> {
    /// The cell of `column`; an empty cell is an error naming the line.
    pub fn get(&self, column: &str) -> Result<&str> {
        let i = self
            .table
            .header
            .iter()
            .position(|h| h == column)
            .ok_or_else(|| self.error(format!("no column {column:?}")))?;
        match self.cells[i].as_str() {
            "" => Err(self.error(format!("{column} is empty"))),
            cell => Ok(cell),
        }
    }

    /// The cell of an optional column: none where the table lacks the column or the cell is empty.
    pub fn optional(&self, column: &str) -> Option<&str> {
        let i = self.table.header.iter().position(|h| h == column)?;
        Some(self.cells[i].as_str()).filter(|c| !c.is_empty())
    }

    /// The cell of `column` as a number.
    pub fn number(&self, column: &str) -> Result<f64> {
        let cell = self.get(column)?;
        cell.parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| self.error(format!("{column} must be a number, got {cell:?}")))
    }

    /// An error about this row.
    pub fn error(&self, message: String) -> Error {
        Error::Pack { path: self.table.path.clone(), line: Some(self.line), message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line() {
        let t =
            Table::parse("drug\tmax\n# comment\nibuprofen\t3200\nnaproxen\tlots\n", "t.tsv", &["drug", "max"]).unwrap();
        let rows: Vec<_> = t.rows().collect();
        assert_eq!(rows[0].number("max").unwrap(), 3200.0);
        let err = rows[1].number("max").unwrap_err().to_string();
        assert_eq!(err, "t.tsv:4: max must be a number, got \"lots\"");
        let err = Table::parse("drug\tmax\nx\n", "t.tsv", &[]).err().unwrap().to_string();
        assert_eq!(err, "t.tsv:2: 1 cells where the header has 2");
        assert!(Table::parse("drug\n", "t.tsv", &["max"]).is_err());
    }
}
