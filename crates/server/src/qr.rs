//! QR codes of pass tokens as SVG and PNG. KD1 tokens are Base45, which is QR's alphanumeric set, so the
//! encoder packs them densely; error correction M keeps a ~270-character token readable at arm's length.

pub use qrcode::EcLevel;
use qrcode::QrCode;

const QUIET_ZONE: usize = 4;

fn code(data: &str, level: EcLevel) -> Result<QrCode, String> {
    QrCode::with_error_correction_level(data.as_bytes(), level)
        .map_err(|e| format!("cannot encode QR: {e}"))
}

pub fn svg(data: &str) -> Result<String, String> {
    svg_at(data, EcLevel::M)
}

/// An SVG QR at error correction `level` (HC1 certificates use Q, as the EU specification asks).
pub fn svg_at(data: &str, level: EcLevel) -> Result<String, String> {
    Ok(code(data, level)?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// A greyscale PNG with `scale` pixels per module and the standard 4-module quiet zone.
pub fn png(data: &str, scale: usize) -> Result<Vec<u8>, String> {
    png_at(data, scale, EcLevel::M)
}

/// [`png`] at error correction `level`.
pub fn png_at(data: &str, scale: usize, level: EcLevel) -> Result<Vec<u8>, String> {
    let code = code(data, level)?;
    let width = code.width();
    let side = (width + 2 * QUIET_ZONE) * scale;
    let colors = code.to_colors();
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = (i % width + QUIET_ZONE, i / width + QUIET_ZONE);
            for y in my * scale..(my + 1) * scale {
                pixels[y * side + mx * scale..y * side + (mx + 1) * scale].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, side as u32, side as u32);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}
