//! BigCommerce API simulator.
