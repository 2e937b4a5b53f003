//! One file per tab.
