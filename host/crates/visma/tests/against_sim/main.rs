//! The client against the Visma simulator over real HTTP on 127.0.0.1.

mod harness;

mod credit_notes;
mod create_once;
mod isolation;
mod resilience;
