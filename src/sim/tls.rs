//! A throw-away CA and a server certificate for 127.0.0.1 / localhost,
//! generated at start; the CA goes into the kubeconfig.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

pub struct Tls {
    pub ca_pem: String,
    pub config: Arc<rustls::ServerConfig>,
}

pub fn generate() -> Result<Tls, String> {
    let e = |what: &str, err: rcgen::Error| format!("cannot create the simulator's {what}: {err}");
    let ca_key = KeyPair::generate().map_err(|x| e("CA key", x))?;
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
    let ca_cert = ca_params.self_signed(&ca_key).map_err(|x| e("CA", x))?;
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

    let chain = vec![
        CertificateDer::from(cert.der().to_vec()),
        CertificateDer::from(ca_cert.der().to_vec()),
    ];
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
        ca_pem: ca_cert.pem(),
        config: Arc::new(config),
    })
}
