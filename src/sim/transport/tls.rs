//! A CA and a server certificate for 127.0.0.1 / localhost, generated at
//! start (or the CA kept in a state directory); the CA goes into the
//! kubeconfig.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

pub struct Tls {
    pub ca_pem: String,
    pub ca_key_pem: String,
    pub config: Arc<rustls::ServerConfig>,
}

/// A kept CA: its certificate and private key, both PEM.
pub struct KeptCa<'a> {
    pub cert_pem: &'a str,
    pub key_pem: &'a str,
}

/// A fresh CA, or the kept one, and a new server certificate signed by it.
pub fn generate(kept: Option<KeptCa<'_>>) -> Result<Tls, String> {
    let e = |what: &str, err: rcgen::Error| format!("cannot create the simulator's {what}: {err}");
    let ca_key = match &kept {
        Some(k) => KeyPair::from_pem(k.key_pem).map_err(|x| e("CA key (kept)", x))?,
        None => KeyPair::generate().map_err(|x| e("CA key", x))?,
    };
    let ca_key_pem = ca_key.serialize_pem();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|x| e("CA", x))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "pitwall-sim-ca");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    // The same name and key as the kept certificate sign the same way.
    let (ca_pem, ca_der) = match &kept {
        Some(k) => {
            let der = CertificateDer::from_pem_slice(k.cert_pem.as_bytes())
                .map_err(|x| format!("the kept CA certificate is not PEM: {x}"))?;
            (k.cert_pem.to_string(), der)
        }
        None => {
            let c = ca_params.self_signed(&ca_key).map_err(|x| e("CA", x))?;
            (c.pem(), CertificateDer::from(c.der().to_vec()))
        }
    };
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().map_err(|x| e("server key", x))?;
    let mut params =
        CertificateParams::new(vec!["localhost".to_string()]).map_err(|x| e("server cert", x))?;
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    params
        .distinguished_name
        .push(DnType::CommonName, "pitwall-sim");
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|x| e("server cert", x))?;

    let chain = vec![CertificateDer::from(cert.der().to_vec()), ca_der];
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|x| format!("TLS setup failed: {x}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|x| format!("TLS setup failed: {x}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        ca_pem,
        ca_key_pem,
        config: Arc::new(config),
    })
}
