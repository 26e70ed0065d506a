//! Visma.net ERP API simulator.
