//! Colour names, and downgrading colours to what the terminal can show.

use super::ColorSupport;
use ratatui::style::{Color, Modifier, Style};

/// ANSI names in their index order (0-15); `gray`/`grey` mean bright-black.
const ANSI_NAMES: [&str; 16] = [
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "white",
    "bright-black",
    "bright-red",
    "bright-green",
    "bright-yellow",
    "bright-blue",
    "bright-magenta",
    "bright-cyan",
    "bright-white",
];

/// ratatui's colours for ANSI 0-15, in index order.
const ANSI_COLORS: [Color; 16] = [
    Color::Black,
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::Gray,
    Color::DarkGray,
    Color::LightRed,
    Color::LightGreen,
    Color::LightYellow,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
    Color::White,
];

/// xterm's default RGB values for ANSI 0-15 (the usual reference).
const ANSI_RGB: [(u8, u8, u8); 16] = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
    (127, 127, 127),
    (255, 0, 0),
    (0, 255, 0),
    (255, 255, 0),
    (92, 92, 255),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
];

const CUBE_LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// A concrete colour: `#rrggbb`, an ANSI name, or `default` (the terminal's
/// own). Integers 0-255 are handled by `indexed`.
pub fn parse_color(text: &str) -> Option<Color> {
    if let Some(hex) = text.strip_prefix('#') {
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        return Some(Color::Rgb(byte(0)?, byte(2)?, byte(4)?));
    }
    let name = text.to_ascii_lowercase().replace('_', "-");
    match name.as_str() {
        "default" | "reset" => Some(Color::Reset),
        "gray" | "grey" => Some(Color::DarkGray),
        _ => ANSI_NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| ANSI_COLORS[i]),
    }
}

/// An xterm palette index as a colour (0-15 become the named ANSI colours).
pub fn indexed(n: i64) -> Option<Color> {
    let n = u8::try_from(n).ok()?;
    Some(match n {
        0..=15 => ANSI_COLORS[n as usize],
        _ => Color::Indexed(n),
    })
}

/// The RGB an xterm-256 index stands for.
fn xterm_rgb(n: u8) -> (u8, u8, u8) {
    match n {
        0..=15 => ANSI_RGB[n as usize],
        16..=231 => {
            let i = n - 16;
            (
                CUBE_LEVELS[(i / 36) as usize],
                CUBE_LEVELS[(i / 6 % 6) as usize],
                CUBE_LEVELS[(i % 6) as usize],
            )
        }
        _ => {
            let v = 8 + 10 * (n - 232);
            (v, v, v)
        }
    }
}

fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).unsigned_abs().pow(2);
    d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2)
}

/// The nearest xterm-256 colour, from the cube and the gray ramp only
/// (16-255 look the same everywhere; 0-15 depend on the terminal's scheme).
pub fn nearest_256(rgb: (u8, u8, u8)) -> u8 {
    (16..=255u8)
        .min_by_key(|n| distance(rgb, xterm_rgb(*n)))
        .unwrap_or(16)
}

/// The nearest of the 16 ANSI colours.
pub fn nearest_16(rgb: (u8, u8, u8)) -> Color {
    let best = (0..16usize)
        .min_by_key(|i| distance(rgb, ANSI_RGB[*i]))
        .unwrap_or(0);
    ANSI_COLORS[best]
}

/// One colour as the terminal can show it; `None` = no colour at all.
pub fn downgrade_color(color: Color, support: ColorSupport) -> Option<Color> {
    match (support, color) {
        (ColorSupport::Mono, _) => None,
        (ColorSupport::TrueColor, c) => Some(c),
        (ColorSupport::Ansi256, Color::Rgb(r, g, b)) => {
            Some(Color::Indexed(nearest_256((r, g, b))))
        }
        (ColorSupport::Ansi256, c) => Some(c),
        (ColorSupport::Ansi16, Color::Rgb(r, g, b)) => Some(nearest_16((r, g, b))),
        (ColorSupport::Ansi16, Color::Indexed(n)) => Some(nearest_16(xterm_rgb(n))),
        (ColorSupport::Ansi16, c) => Some(c),
    }
}

/// A style as the terminal can show it. Without colours the selection would
/// vanish, so it is drawn reversed.
pub fn downgrade_style(scope: &str, style: Style, support: ColorSupport) -> Style {
    let mut out = style;
    out.fg = style.fg.and_then(|c| downgrade_color(c, support));
    out.bg = style.bg.and_then(|c| downgrade_color(c, support));
    out.underline_color = style
        .underline_color
        .and_then(|c| downgrade_color(c, support));
    if support == ColorSupport::Mono && scope == "ui.selection" {
        out = out.add_modifier(Modifier::REVERSED);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_syntax() {
        assert_eq!(parse_color("#ff8000"), Some(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_color("#FF8000"), Some(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_color("red"), Some(Color::Red));
        assert_eq!(parse_color("bright-black"), Some(Color::DarkGray));
        assert_eq!(parse_color("bright_white"), Some(Color::White));
        assert_eq!(parse_color("white"), Some(Color::Gray));
        assert_eq!(parse_color("default"), Some(Color::Reset));
        assert_eq!(parse_color("#ff80"), None);
        assert_eq!(parse_color("#gg0000"), None);
        assert_eq!(parse_color("amber"), None);
        assert_eq!(indexed(1), Some(Color::Red));
        assert_eq!(indexed(208), Some(Color::Indexed(208)));
        assert_eq!(indexed(256), None);
        assert_eq!(indexed(-1), None);
    }

    #[test]
    fn truecolor_downgrades_to_the_nearest_xterm_colour() {
        // Exact cube and gray-ramp colours map to themselves.
        assert_eq!(nearest_256((255, 0, 0)), 196);
        assert_eq!(nearest_256((0, 0, 0)), 16);
        assert_eq!(nearest_256((255, 135, 0)), 208);
        assert_eq!(nearest_256((128, 128, 128)), 244);
        // Near colours land on their neighbour.
        assert_eq!(nearest_256((250, 130, 5)), 208);
        assert_eq!(nearest_256((30, 30, 30)), 234);
        for n in 16..=255u8 {
            assert_eq!(nearest_256(xterm_rgb(n)), n, "index {n}");
        }
    }

    #[test]
    fn colours_downgrade_to_the_nearest_ansi_colour() {
        assert_eq!(nearest_16((255, 85, 85)), Color::LightRed);
        assert_eq!(nearest_16((200, 10, 10)), Color::Red);
        assert_eq!(nearest_16((20, 20, 30)), Color::Black);
        assert_eq!(nearest_16((250, 250, 250)), Color::White);
        assert_eq!(nearest_16((90, 160, 250)), Color::LightBlue);
        assert_eq!(
            downgrade_color(Color::Indexed(196), ColorSupport::Ansi16),
            Some(Color::LightRed)
        );
        assert_eq!(
            downgrade_color(Color::Rgb(255, 0, 0), ColorSupport::Ansi256),
            Some(Color::Indexed(196))
        );
        assert_eq!(
            downgrade_color(Color::Rgb(1, 2, 3), ColorSupport::TrueColor),
            Some(Color::Rgb(1, 2, 3))
        );
        assert_eq!(
            downgrade_color(Color::Green, ColorSupport::Ansi16),
            Some(Color::Green)
        );
        assert_eq!(downgrade_color(Color::Green, ColorSupport::Mono), None);
    }

    #[test]
    fn mono_keeps_modifiers_and_reverses_the_selection() {
        let style = Style::new()
            .fg(Color::Red)
            .bg(Color::Rgb(1, 2, 3))
            .add_modifier(Modifier::BOLD);
        let mono = downgrade_style("ui.error", style, ColorSupport::Mono);
        assert_eq!(mono, Style::new().add_modifier(Modifier::BOLD));
        let selection = Style::new().bg(Color::Blue);
        let mono = downgrade_style("ui.selection", selection, ColorSupport::Mono);
        assert_eq!(mono, Style::new().add_modifier(Modifier::REVERSED));
    }
}
