//! The rules in force on the validated branch, as `ovn status` applies them: the walk and
//! its judgement are `ops::rules`; this name stays for the commands that read it from here.

pub(super) use crate::ops::rules::{applied, rules};
