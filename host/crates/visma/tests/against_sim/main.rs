//! The client against the Visma simulator over real HTTP on 127.0.0.1.

mod harness;

mod create_once;
mod credit_notes;
mod inventory;
mod isolation;
mod payments;
mod resilience;
mod sales_orders;
