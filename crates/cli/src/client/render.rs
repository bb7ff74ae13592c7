//! Tables and colours for people. Colours only on a terminal, never when `NO_COLOR` is set,
//! so piped output and logs stay plain.

use std::io::IsTerminal;

use comfy_table::{Cell, Color, ContentArrangement, LineStyle, Table, TableStyle};
use owo_colors::OwoColorize;

/// What a piece of text means, which picks its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Healthy, passing, promoted.
    Good,
    /// Failing, rolled back, aborted.
    Bad,
    /// Paused, inconclusive, waiting.
    Warn,
    /// Secondary information.
    Dim,
    /// Headlines.
    Bold,
    /// Plain text.
    Plain,
}

/// Whether to colour, decided once per command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Palette {
    enabled: bool,
}

impl Palette {
    /// Colours when stdout is a terminal and `NO_COLOR` is not set.
    pub fn detect() -> Palette {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Palette {
            enabled: std::io::stdout().is_terminal() && !no_color,
        }
    }

    /// Never colours.
    #[cfg(test)]
    pub fn plain() -> Palette {
        Palette { enabled: false }
    }

    /// True when colours are on.
    pub fn enabled(self) -> bool {
        self.enabled
    }

    /// `text` in the colour of `style`, or as is when colours are off.
    pub fn paint(self, text: &str, style: Style) -> String {
        if !self.enabled {
            return text.to_owned();
        }
        match style {
            Style::Good => text.green().to_string(),
            Style::Bad => text.red().bold().to_string(),
            Style::Warn => text.yellow().to_string(),
            Style::Dim => text.dimmed().to_string(),
            Style::Bold => text.bold().to_string(),
            Style::Plain => text.to_owned(),
        }
    }

    /// A table cell in the colour of `style`.
    pub fn cell(self, text: impl ToString, style: Style) -> Cell {
        let cell = Cell::new(text.to_string());
        if !self.enabled {
            return cell;
        }
        match style {
            Style::Good => cell.fg(Color::Green),
            Style::Bad => cell.fg(Color::Red),
            Style::Warn => cell.fg(Color::Yellow),
            Style::Dim => cell.fg(Color::DarkGrey),
            Style::Bold | Style::Plain => cell,
        }
    }

    /// The style of a rollout phase.
    pub fn phase_style(phase: &str) -> Style {
        match phase {
            "promoted" | "progressing" => Style::Good,
            "rolled_back" | "aborted" => Style::Bad,
            "paused" | "pending" => Style::Warn,
            _ => Style::Plain,
        }
    }

    /// The style of a verdict outcome.
    pub fn outcome_style(outcome: &str) -> Style {
        match outcome {
            "pass" => Style::Good,
            "fail" => Style::Bad,
            "inconclusive" => Style::Warn,
            _ => Style::Plain,
        }
    }
}

/// No borders, one line under the header: compact, and easy on `grep` and `awk`.
const STYLE: TableStyle =
    TableStyle::new().header_separator(LineStyle::none().fill('─').junction('─'));

/// A borderless table with a header row, fitted to the terminal's width.
pub fn table(header: &[&str], palette: Palette) -> Table {
    let mut t = Table::new();
    t.load_style(STYLE)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    if !palette.enabled() {
        t.force_no_tty();
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_palette_adds_no_escapes() {
        let p = Palette::plain();
        assert_eq!(p.paint("paused", Style::Warn), "paused");
        let mut t = table(&["NAME", "PHASE"], p);
        t.add_row(vec![
            p.cell("shop", Style::Plain),
            p.cell("paused", Style::Warn),
        ]);
        let text = t.to_string();
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(text.contains("shop") && text.contains("PHASE"));
    }

    #[test]
    fn an_enabled_palette_colours() {
        let p = Palette { enabled: true };
        assert!(p.paint("fail", Style::Bad).contains('\u{1b}'));
        assert_eq!(Palette::phase_style("rolled_back"), Style::Bad);
        assert_eq!(Palette::outcome_style("inconclusive"), Style::Warn);
    }
}
