//! Which methods the LSP serves beyond LSPS0's own, who owns each (a plugin), and which LSPS
//! each belongs to, for `lsps0.list_protocols`.

use std::collections::HashMap;
use std::fmt;

/// Why [`Registry::register`] (and so [`crate::Service::register`]) refused a method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterError {
    /// `lsps0.` methods are this crate's.
    Reserved,
    /// Protocol 0 is LSPS0 itself, which `lsps0.list_protocols` must not report.
    ProtocolZero,
    /// The name says `lsps<N>.` for another N than the protocol given.
    ProtocolMismatch {
        /// The N in the name (`None`: too large for a protocol number).
        named: Option<u16>,
    },
    /// Another registration has this method.
    AlreadyRegistered,
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterError::Reserved => f.write_str("lsps0 methods are built in"),
            RegisterError::ProtocolZero => f.write_str("protocol 0 is LSPS0 itself"),
            RegisterError::ProtocolMismatch { named: Some(n) } => {
                write!(f, "the method name belongs to LSPS{n}")
            }
            RegisterError::ProtocolMismatch { named: None } => {
                f.write_str("the method name's LSPS number is out of range")
            }
            RegisterError::AlreadyRegistered => f.write_str("method already registered"),
        }
    }
}

impl std::error::Error for RegisterError {}

#[derive(Debug, Clone)]
struct Registration<O> {
    owner: O,
    protocol: u16,
}

/// The registered methods.
#[derive(Debug, Clone)]
pub struct Registry<O> {
    methods: HashMap<String, Registration<O>>,
}

impl<O> Default for Registry<O> {
    fn default() -> Self {
        Registry {
            methods: HashMap::new(),
        }
    }
}

impl<O: Eq> Registry<O> {
    /// Registers `method` for `owner`, as part of LSPS `protocol`. A name of the form
    /// `lsps<N>.…` must have N = `protocol`; other names (a vendor's extension) may belong to
    /// any protocol but 0, which is LSPS0 itself.
    ///
    /// # Errors
    /// [`RegisterError`]; nothing changes then.
    pub fn register(&mut self, method: &str, owner: O, protocol: u16) -> Result<(), RegisterError> {
        match lsps_number(method) {
            Some(Some(0)) => return Err(RegisterError::Reserved),
            Some(named) if named != Some(protocol) => {
                return Err(RegisterError::ProtocolMismatch { named })
            }
            _ => {}
        }
        if protocol == 0 {
            return Err(RegisterError::ProtocolZero);
        }
        if self.methods.contains_key(method) {
            return Err(RegisterError::AlreadyRegistered);
        }
        let registration = Registration { owner, protocol };
        self.methods.insert(method.to_owned(), registration);
        Ok(())
    }

    /// Removes every method of `owner`.
    pub fn remove_owner(&mut self, owner: &O) {
        self.methods
            .retain(|_, registration| registration.owner != *owner);
    }

    /// Who serves `method`.
    pub fn owner_of(&self, method: &str) -> Option<&O> {
        self.methods
            .get(method)
            .map(|registration| &registration.owner)
    }

    /// The protocols `lsps0.list_protocols` reports: those of the registered methods, sorted,
    /// each once (never 0).
    pub fn protocols(&self) -> Vec<u16> {
        let mut protocols: Vec<u16> = self.methods.values().map(|r| r.protocol).collect();
        protocols.sort_unstable();
        protocols.dedup();
        protocols
    }
}

/// `Some(Some(n))` for a name `lsps<n>.…`, `Some(None)` when n does not fit a `u16`, `None`
/// for other names.
fn lsps_number(method: &str) -> Option<Option<u16>> {
    let (prefix, _) = method.split_once('.')?;
    let digits = prefix.strip_prefix("lsps")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLUGIN: &str = "lsps2-plugin";

    #[test]
    fn registration_rules() {
        let mut service = Registry::default();
        assert_eq!(
            service.register("lsps0.list_protocols", PLUGIN, 0),
            Err(RegisterError::Reserved)
        );
        assert_eq!(
            service.register("lsps0.other", PLUGIN, 2),
            Err(RegisterError::Reserved)
        );
        assert_eq!(
            service.register("acme.thing", PLUGIN, 0),
            Err(RegisterError::ProtocolZero)
        );
        assert_eq!(
            service.register("lsps2.buy", PLUGIN, 1),
            Err(RegisterError::ProtocolMismatch { named: Some(2) })
        );
        assert_eq!(
            service.register("lsps99999.x", PLUGIN, 1),
            Err(RegisterError::ProtocolMismatch { named: None })
        );
        service.register("lsps2.buy", PLUGIN, 2).unwrap();
        assert_eq!(
            service.register("lsps2.buy", "other", 2),
            Err(RegisterError::AlreadyRegistered)
        );
        // Names that only look like the prefix belong to whatever protocol is given.
        service.register("lsps.x", PLUGIN, 3).unwrap();
        service.register("lspsx.y", PLUGIN, 4).unwrap();
        assert_eq!(service.protocols(), vec![2, 3, 4]);
    }

    #[test]
    fn owners_are_found_and_removed() {
        let mut registry = Registry::default();
        registry.register("lsps2.buy", PLUGIN, 2).unwrap();
        registry.register("lsps5.set_webhook", "other", 5).unwrap();
        assert_eq!(registry.owner_of("lsps2.buy"), Some(&PLUGIN));
        assert_eq!(registry.owner_of("lsps2.get_info"), None);
        registry.remove_owner(&PLUGIN);
        assert_eq!(registry.owner_of("lsps2.buy"), None);
        assert_eq!(registry.protocols(), vec![5]);
    }
}
