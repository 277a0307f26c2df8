//! Policy XML with positions (being built).
