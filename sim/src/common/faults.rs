//! Checks shared by both simulators' fault settings (`POST /__admin/faults`).

/// Every named ratio must be a probability in 0..=1.
pub fn check_ratios(ratios: &[(&str, f64)]) -> Result<(), String> {
    for &(name, v) in ratios {
        if !(0.0..=1.0).contains(&v) {
            return Err(format!("{name} must be between 0 and 1, got {v}"));
        }
    }
    Ok(())
}
