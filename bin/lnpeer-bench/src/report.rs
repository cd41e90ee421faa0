//! The table `lnpeer-bench` prints.

/// One line of the table.
struct Row {
    name: String,
    ours: f64,
    theirs: Option<f64>,
    setting: String,
    aead_ratio: Option<f64>,
}

/// The rows measured so far.
pub(crate) struct Report {
    rows: Vec<Row>,
}

impl Report {
    pub(crate) fn new() -> Report {
        Report { rows: Vec::new() }
    }

    /// A figure measured for both implementations; `setting` names LDK's best setting.
    pub(crate) fn row(
        &mut self,
        name: &str,
        ours: f64,
        theirs: f64,
        setting: &str,
        aead_ratio: Option<f64>,
    ) {
        self.rows.push(Row {
            name: name.to_owned(),
            ours,
            theirs: Some(theirs),
            setting: setting.to_owned(),
            aead_ratio,
        });
        self.print_last();
    }

    /// A figure only lnpeer has (LDK has no RPC or daemon); `note` says what bounds it.
    pub(crate) fn ours(&mut self, name: &str, ours: f64, note: &str) {
        self.rows.push(Row {
            name: name.to_owned(),
            ours,
            theirs: None,
            setting: note.to_owned(),
            aead_ratio: None,
        });
        self.print_last();
    }

    /// A figure only lnpeer has, beside a `reference` figure measured in the same run (named
    /// by `reference_name`): the note starts with their ratio.
    pub(crate) fn ours_against(
        &mut self,
        name: &str,
        ours: f64,
        reference: f64,
        reference_name: &str,
        note: &str,
    ) {
        self.ours(
            name,
            ours,
            &ratio_note(ours, reference, reference_name, note),
        );
    }

    /// Progress on stderr as each row is measured, so a long run shows where it is.
    fn print_last(&self) {
        if let Some(row) = self.rows.last() {
            eprintln!("measured: {}", line(row));
        }
    }

    /// The whole table, as Markdown, on stdout.
    pub(crate) fn print(&self) {
        println!("| benchmark | lnpeer | LDK 0.2.7 | lnpeer / LDK | lnpeer / AEAD limit | LDK setting or note |");
        println!("|---|---:|---:|---:|---:|---|");
        for row in &self.rows {
            println!("{}", line(row));
        }
    }
}

fn line(row: &Row) -> String {
    let theirs = row.theirs.map_or("–".to_owned(), figure);
    let ratio = row
        .theirs
        .filter(|theirs| *theirs > 0.0)
        .map_or("–".to_owned(), |theirs| {
            format!("{:.2}x", row.ours / theirs)
        });
    let aead = row
        .aead_ratio
        .map_or("–".to_owned(), |ratio| format!("{:.0}%", ratio * 100.0));
    format!(
        "| {} | {} | {} | {} | {} | {} |",
        row.name,
        figure(row.ours),
        theirs,
        ratio,
        aead,
        row.setting
    )
}

/// `2.50x <reference_name> (<reference>); <note>`.
fn ratio_note(ours: f64, reference: f64, reference_name: &str, note: &str) -> String {
    let ratio = if reference > 0.0 {
        format!("{:.2}x", ours / reference)
    } else {
        "–".to_owned()
    };
    let mut text = format!("{ratio} {reference_name} ({})", figure(reference));
    if !note.is_empty() {
        text.push_str("; ");
        text.push_str(note);
    }
    text
}

/// Three significant figures, with thousands separated, so the table reads at a glance.
fn figure(value: f64) -> String {
    if value >= 1000.0 {
        let rounded = value.round() as u64;
        let digits = rounded.to_string();
        let mut out = String::new();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(digit);
        }
        out
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_and_ratios_read_as_intended() {
        assert_eq!(figure(1_234_567.4), "1,234,567");
        assert_eq!(figure(55.04), "55.0");
        assert_eq!(figure(1.5), "1.50");
        let row = Row {
            name: "x".into(),
            ours: 300.0,
            theirs: Some(100.0),
            setting: "s".into(),
            aead_ratio: Some(0.5),
        };
        assert_eq!(line(&row), "| x | 300.0 | 100.0 | 3.00x | 50% | s |");
    }

    #[test]
    fn a_reference_in_the_same_run_is_named_with_the_ratio() {
        assert_eq!(
            ratio_note(250.0, 100.0, "the local socket's", "n"),
            "2.50x the local socket's (100.0); n"
        );
        assert_eq!(ratio_note(1.0, 0.0, "r", ""), "– r (0.00)");
    }
}
