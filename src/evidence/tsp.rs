//! RFC 3161 time-stamp requests and the native check of a TimeStampResp.
//!
//! [`check_response`] checks, without openssl:
//! 1. the PKIStatus is granted (0) or grantedWithMods (1);
//! 2. the token is CMS SignedData with eContentType id-ct-TSTInfo and exactly one signer;
//! 3. the TSTInfo message imprint is SHA-256 over the expected bytes, and the nonce is the
//!    one we sent (on receipt; a stored token has no request to compare with);
//! 4. the signed attributes: content-type is id-ct-TSTInfo, message-digest equals the hash
//!    of the TSTInfo, and an ESS signing-certificate (v2, or v1 with SHA-1) names the
//!    signer certificate by hash;
//! 5. the signer certificate carried in the token matches the SignerInfo's issuer and
//!    serial number, and its signature over the DER of the signed attributes verifies
//!    (ECDSA P-256/P-384, RSA PKCS#1 v1.5; RSA-PSS is not supported and is reported);
//! 6. the signer certificate has an extended key usage extension that is marked critical
//!    and contains id-kp-timeStamping;
//! 7. when trust anchors are given: the chain from the signer certificate (intermediates
//!    from the token and the given chain) reaches one of them, valid at genTime, with the
//!    timeStamping EKU (rustls-webpki). Revocation is not checked.

use super::der::{self, Reader, Tlv, oid, tag};
use aws_lc_rs::digest;
use aws_lc_rs::signature;
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::Serialize;

/// A TimeStampReq over a SHA-256 digest with certReq = true and the given nonce.
pub fn request(sha256: &[u8; 32], nonce: &[u8]) -> Vec<u8> {
    let alg = der::tlv(
        tag::SEQUENCE,
        &[der::tlv(tag::OID, oid::SHA256), der::tlv(tag::NULL, &[])].concat(),
    );
    let imprint = der::tlv(
        tag::SEQUENCE,
        &[alg, der::tlv(tag::OCTET_STRING, sha256)].concat(),
    );
    let body = [
        der::tlv(tag::INTEGER, &[1]),
        imprint,
        der::tlv(tag::INTEGER, nonce),
        der::tlv(tag::BOOLEAN, &[0xff]),
    ]
    .concat();
    der::tlv(tag::SEQUENCE, &body)
}

/// A fresh positive 8-byte nonce, minimally encoded as an INTEGER's content.
pub fn new_nonce() -> Vec<u8> {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    b[0] = (b[0] & 0x7f) | 0x01;
    b.to_vec()
}

/// What a verified token says.
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    /// genTime as RFC 3339 (UTC).
    pub gen_time: String,
    pub serial: String,
    pub policy: String,
    /// Signer certificate subject, roughly rendered (CN and O when present).
    pub signer: String,
    /// SHA-256 of the signer certificate (hex).
    pub signer_cert_sha256: String,
    /// Whether the chain was checked against trust anchors.
    pub chain_checked: bool,
}

/// A parsed X.509 certificate: just the parts needed here.
pub struct Cert<'a> {
    pub raw: &'a [u8],
    pub serial: &'a [u8],
    pub issuer: &'a [u8],
    pub subject: &'a [u8],
    pub spki_alg: &'a [u8],
    pub spki_params: Option<Tlv<'a>>,
    pub public_key: &'a [u8],
    /// (oid, critical, value)
    pub extensions: Vec<(&'a [u8], bool, &'a [u8])>,
}

pub fn parse_cert(raw: &[u8]) -> der::DerResult<Cert<'_>> {
    let c = der::one(raw)?;
    let mut c = Reader::new(c.content);
    let mut tbs = c.seq()?;
    tbs.optional(tag::ctx(0))?;
    let serial = tbs.expect(tag::INTEGER)?.content;
    tbs.expect(tag::SEQUENCE)?;
    let issuer = tbs.expect(tag::SEQUENCE)?.raw;
    tbs.expect(tag::SEQUENCE)?;
    let subject = tbs.expect(tag::SEQUENCE)?.raw;
    let mut spki = tbs.seq()?;
    let mut alg = spki.seq()?;
    let spki_alg = alg.expect(tag::OID)?.content;
    let spki_params = if alg.is_empty() {
        None
    } else {
        Some(alg.any()?)
    };
    let bits = spki.expect(tag::BIT_STRING)?.content;
    let public_key = bits.get(1..).ok_or("empty public key")?;
    let mut extensions = vec![];
    while !tbs.is_empty() {
        let e = tbs.any()?;
        if e.tag == tag::ctx(3) {
            let mut exts = Reader::new(e.content).seq()?;
            while !exts.is_empty() {
                let mut ext = exts.seq()?;
                let id = ext.expect(tag::OID)?.content;
                let critical = ext
                    .optional(tag::BOOLEAN)?
                    .map(|b| b.content != [0])
                    .unwrap_or(false);
                let value = ext.expect(tag::OCTET_STRING)?.content;
                extensions.push((id, critical, value));
            }
        }
    }
    Ok(Cert {
        raw,
        serial,
        issuer,
        subject,
        spki_alg,
        spki_params,
        public_key,
        extensions,
    })
}

/// CN and O of a Name, for people.
pub fn name_text(name: &[u8]) -> String {
    let mut parts = vec![];
    let mut walk = || -> der::DerResult<()> {
        let mut n = Reader::new(der::one(name)?.content);
        while !n.is_empty() {
            let mut set = Reader::new(n.expect(tag::SET)?.content);
            while !set.is_empty() {
                let mut atv = set.seq()?;
                let id = atv.expect(tag::OID)?.content;
                let v = atv.any()?;
                let label = match id {
                    [0x55, 0x04, 0x03] => "CN",
                    [0x55, 0x04, 0x0a] => "O",
                    [0x55, 0x04, 0x06] => "C",
                    _ => continue,
                };
                parts.push(format!("{label}={}", String::from_utf8_lossy(v.content)));
            }
        }
        Ok(())
    };
    let _ = walk();
    parts.join(", ")
}

fn sha(alg: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    let a = match alg {
        oid::SHA256 => &digest::SHA256,
        oid::SHA384 => &digest::SHA384,
        oid::SHA512 => &digest::SHA512,
        oid::SHA1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        other => {
            return Err(format!(
                "unsupported digest algorithm {}",
                der::oid_string(other)
            ));
        }
    };
    Ok(digest::digest(a, data).as_ref().to_vec())
}

fn parse_gen_time(s: &[u8]) -> Result<jiff::Timestamp, String> {
    let s = std::str::from_utf8(s).map_err(|_| "genTime is not ASCII")?;
    let body = s.strip_suffix('Z').ok_or("genTime is not UTC (no Z)")?;
    let (main, frac) = body.split_once('.').unwrap_or((body, ""));
    if main.len() != 14 || !main.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad genTime {s:?}"));
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}{}Z",
        &main[0..4],
        &main[4..6],
        &main[6..8],
        &main[8..10],
        &main[10..12],
        &main[12..14],
        if frac.is_empty() {
            String::new()
        } else {
            format!(".{frac}")
        }
    );
    iso.parse().map_err(|e| format!("bad genTime {s:?}: {e}"))
}

/// Checks a TimeStampResp over `data_sha256`. `nonce`: the nonce sent (on receipt).
/// `anchors`: trusted roots (DER); `extra_chain`: more intermediates (DER).
pub fn check_response(
    resp: &[u8],
    data_sha256: &[u8; 32],
    nonce: Option<&[u8]>,
    anchors: &[Vec<u8>],
    extra_chain: &[Vec<u8>],
) -> Result<TokenInfo, String> {
    let mut r = Reader::new(
        der::one(resp)
            .map_err(|e| format!("not a DER TimeStampResp: {e}"))?
            .content,
    );
    let mut status = r.seq()?;
    let st = status.expect(tag::INTEGER)?.content;
    if st != [0] && st != [1] {
        return Err(format!(
            "the TSA refused: PKIStatus {}",
            st.first().copied().unwrap_or(255)
        ));
    }
    let token = r
        .expect(tag::SEQUENCE)
        .map_err(|_| "the reply holds no time-stamp token".to_string())?;
    let (info, certs) = check_token(token.raw, data_sha256, nonce)?;
    let _ = certs;
    let mut info = info;
    if !anchors.is_empty() {
        check_chain(token.raw, anchors, extra_chain, &info)?;
        info.chain_checked = true;
    }
    Ok(info)
}

/// The certificates carried in a TimeStampResp's token (DER), signer first when known.
pub fn token_certs(resp: &[u8]) -> Vec<Vec<u8>> {
    let inner = || -> der::DerResult<Vec<Vec<u8>>> {
        let mut r = Reader::new(der::one(resp)?.content);
        r.seq()?;
        let sd = signed_data(r.expect(tag::SEQUENCE)?.raw)?;
        Ok(sd.certs.iter().map(|c| c.to_vec()).collect())
    };
    inner().unwrap_or_default()
}

struct SignedData<'a> {
    econtent: &'a [u8],
    certs: Vec<&'a [u8]>,
    signer: Reader<'a>,
}

fn signed_data(token: &[u8]) -> der::DerResult<SignedData<'_>> {
    let mut ci = Reader::new(der::one(token)?.content);
    if ci.expect(tag::OID)?.content != oid::SIGNED_DATA {
        return Err("the token is not CMS SignedData".into());
    }
    let mut sd = Reader::new(
        Reader::new(ci.expect(tag::ctx(0))?.content)
            .expect(tag::SEQUENCE)?
            .content,
    );
    sd.expect(tag::INTEGER)?;
    sd.expect(tag::SET)?;
    let mut encap = sd.seq()?;
    if encap.expect(tag::OID)?.content != oid::TST_INFO {
        return Err("the token's eContentType is not id-ct-TSTInfo".into());
    }
    let econtent = Reader::new(encap.expect(tag::ctx(0))?.content)
        .expect(tag::OCTET_STRING)?
        .content;
    let mut certs = vec![];
    if let Some(c) = sd.optional(tag::ctx(0))? {
        let mut cr = Reader::new(c.content);
        while !cr.is_empty() {
            let e = cr.any()?;
            if e.tag == tag::SEQUENCE {
                certs.push(e.raw);
            }
        }
    }
    sd.optional(tag::ctx(1))?;
    let mut signers = Reader::new(sd.expect(tag::SET)?.content);
    let signer = signers.seq()?;
    if !signers.is_empty() {
        return Err("the token has more than one signer".into());
    }
    Ok(SignedData {
        econtent,
        certs,
        signer,
    })
}

fn check_token(
    token: &[u8],
    data_sha256: &[u8; 32],
    nonce: Option<&[u8]>,
) -> Result<(TokenInfo, Vec<Vec<u8>>), String> {
    let sd = signed_data(token)?;
    // TSTInfo
    let mut t = Reader::new(der::one(sd.econtent)?.content);
    t.expect(tag::INTEGER)?;
    let policy = der::oid_string(t.expect(tag::OID)?.content);
    let mut mi = t.seq()?;
    let mut mialg = mi.seq()?;
    if mialg.expect(tag::OID)?.content != oid::SHA256 {
        return Err("the token's message imprint is not SHA-256".into());
    }
    if mi.expect(tag::OCTET_STRING)?.content != data_sha256 {
        return Err("the token's message imprint does not match the checkpoint's SHA-256".into());
    }
    let serial = hex::encode(t.expect(tag::INTEGER)?.content);
    let gen_time = parse_gen_time(t.expect(tag::GENERALIZED_TIME)?.content)?;
    t.optional(tag::SEQUENCE)?;
    t.optional(tag::BOOLEAN)?;
    let got_nonce = t.optional(tag::INTEGER)?.map(|n| n.content);
    if let Some(want) = nonce
        && got_nonce != Some(want)
    {
        return Err("the token's nonce is not the one sent".into());
    }

    // SignerInfo
    let mut si = sd.signer;
    si.expect(tag::INTEGER)?;
    let sid = si.any()?;
    let digest_alg = Reader::new(si.expect(tag::SEQUENCE)?.content)
        .expect(tag::OID)?
        .content;
    let attrs = si
        .expect(tag::ctx(0))
        .map_err(|_| "the signer has no signed attributes".to_string())?;
    let mut sig_alg_r = si.seq()?;
    let sig_alg = sig_alg_r.expect(tag::OID)?.content;
    let sig = si.expect(tag::OCTET_STRING)?.content;

    let mut content_type_ok = false;
    let mut message_digest = None;
    let mut ess: Option<(&[u8], Vec<u8>)> = None; // (hash alg, cert hash)
    let mut ar = Reader::new(attrs.content);
    while !ar.is_empty() {
        let mut a = ar.seq()?;
        let id = a.expect(tag::OID)?.content;
        let mut vals = Reader::new(a.expect(tag::SET)?.content);
        match id {
            oid::CONTENT_TYPE => content_type_ok = vals.expect(tag::OID)?.content == oid::TST_INFO,
            oid::MESSAGE_DIGEST => message_digest = Some(vals.expect(tag::OCTET_STRING)?.content),
            oid::SIGNING_CERT_V2 => {
                let mut sc = vals.seq()?;
                let mut ids = sc.seq()?;
                let mut first = ids.seq()?;
                let alg = match first.optional(tag::SEQUENCE)? {
                    Some(a) => Reader::new(a.content).expect(tag::OID)?.content,
                    None => oid::SHA256,
                };
                ess = Some((alg, first.expect(tag::OCTET_STRING)?.content.to_vec()));
            }
            oid::SIGNING_CERT if ess.is_none() => {
                let mut sc = vals.seq()?;
                let mut ids = sc.seq()?;
                let mut first = ids.seq()?;
                ess = Some((oid::SHA1, first.expect(tag::OCTET_STRING)?.content.to_vec()));
            }
            _ => {}
        }
    }
    if !content_type_ok {
        return Err("the signed content-type attribute is missing or not id-ct-TSTInfo".into());
    }
    let md = message_digest.ok_or("the signed message-digest attribute is missing")?;
    if sha(digest_alg, sd.econtent)? != md {
        return Err(
            "the signed message-digest does not match the TSTInfo (the token was altered)".into(),
        );
    }
    let (ess_alg, ess_hash) = ess.ok_or("no ESS signing-certificate attribute")?;

    // The signer certificate: named by the ESS hash, and by the SignerInfo's sid.
    let mut signer = None;
    for c in &sd.certs {
        if sha(ess_alg, c)? == ess_hash {
            signer = Some(parse_cert(c)?);
        }
    }
    let signer = signer.ok_or("no certificate in the token matches the ESS signing-certificate hash (certReq was not honoured, or the token was altered)")?;
    if sid.tag == tag::SEQUENCE {
        let mut s = Reader::new(sid.content);
        let issuer = s.expect(tag::SEQUENCE)?.raw;
        let serial = s.expect(tag::INTEGER)?.content;
        if issuer != signer.issuer || serial != signer.serial {
            return Err(
                "the SignerInfo names another certificate than the ESS signing-certificate".into(),
            );
        }
    }

    // The signature over the signed attributes, re-tagged as a SET.
    let mut signed = attrs.raw.to_vec();
    signed[0] = tag::SET;
    verify_sig(&signer, digest_alg, sig_alg, &signed, sig)?;

    // RFC 3161 §2.3: the EKU must be critical and name timeStamping.
    let eku = signer
        .extensions
        .iter()
        .find(|(id, _, _)| *id == oid::EXT_KEY_USAGE);
    match eku {
        None => return Err("the TSA certificate has no extended key usage".into()),
        Some((_, false, _)) => {
            return Err("the TSA certificate's extended key usage is not critical".into());
        }
        Some((_, true, v)) => {
            let mut purposes = Reader::new(der::one(v)?.content);
            let mut ts = false;
            while !purposes.is_empty() {
                if purposes.expect(tag::OID)?.content == oid::TIME_STAMPING {
                    ts = true;
                }
            }
            if !ts {
                return Err("the TSA certificate's extended key usage lacks timeStamping".into());
            }
        }
    }

    let info = TokenInfo {
        gen_time: gen_time.to_string(),
        serial,
        policy,
        signer: name_text(signer.subject),
        signer_cert_sha256: hex::encode(sha(oid::SHA256, signer.raw)?),
        chain_checked: false,
    };
    let certs = sd.certs.iter().map(|c| c.to_vec()).collect();
    Ok((info, certs))
}

fn verify_sig(
    cert: &Cert,
    digest_alg: &[u8],
    sig_alg: &[u8],
    msg: &[u8],
    sig: &[u8],
) -> Result<(), String> {
    let alg: &dyn signature::VerificationAlgorithm = match cert.spki_alg {
        oid::EC_PUBLIC_KEY => {
            let curve = cert.spki_params.map(|p| p.content).unwrap_or_default();
            match (curve, digest_alg) {
                (oid::P256, oid::SHA256) => &signature::ECDSA_P256_SHA256_ASN1,
                (oid::P256, oid::SHA384) => &signature::ECDSA_P256_SHA384_ASN1,
                (oid::P384, oid::SHA256) => &signature::ECDSA_P384_SHA256_ASN1,
                (oid::P384, oid::SHA384) => &signature::ECDSA_P384_SHA384_ASN1,
                (oid::P384, oid::SHA512) => &signature::ECDSA_P384_SHA512_ASN1,
                _ => {
                    return Err(format!(
                        "unsupported ECDSA curve/digest {} / {}",
                        der::oid_string(curve),
                        der::oid_string(digest_alg)
                    ));
                }
            }
        }
        oid::RSA => {
            // rsaEncryption or shaXWithRSAEncryption (1.2.840.113549.1.1.11-13); PSS (…1.10) is not supported.
            if sig_alg.last() == Some(&0x0a) && sig_alg.len() == 9 {
                return Err(
                    "RSA-PSS TSA signatures are not supported by the native verifier".into(),
                );
            }
            match digest_alg {
                oid::SHA256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                oid::SHA384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                oid::SHA512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                _ => {
                    return Err(format!(
                        "unsupported RSA digest {}",
                        der::oid_string(digest_alg)
                    ));
                }
            }
        }
        other => {
            return Err(format!(
                "unsupported TSA key type {}",
                der::oid_string(other)
            ));
        }
    };
    signature::UnparsedPublicKey::new(alg, cert.public_key)
        .verify(msg, sig)
        .map_err(|_| "the TSA's signature does not verify (the token was altered)".to_string())
}

fn check_chain(
    token: &[u8],
    anchors: &[Vec<u8>],
    extra: &[Vec<u8>],
    info: &TokenInfo,
) -> Result<(), String> {
    let sd = signed_data(token)?;
    let signer = sd
        .certs
        .iter()
        .find(|c| {
            hex::encode(digest::digest(&digest::SHA256, c).as_ref()) == info.signer_cert_sha256
        })
        .ok_or("signer certificate vanished")?;
    let ee_der = CertificateDer::from(signer.to_vec());
    let ee = webpki::EndEntityCert::try_from(&ee_der)
        .map_err(|e| format!("the TSA certificate is unreadable: {e:?}"))?;
    let anchor_ders: Vec<CertificateDer> = anchors
        .iter()
        .map(|a| CertificateDer::from(a.clone()))
        .collect();
    let mut tas = vec![];
    for a in &anchor_ders {
        tas.push(
            webpki::anchor_from_trusted_cert(a)
                .map_err(|e| format!("a trust anchor is unreadable: {e:?}"))?
                .to_owned(),
        );
    }
    let inter: Vec<CertificateDer> = sd
        .certs
        .iter()
        .map(|c| c.to_vec())
        .chain(extra.iter().cloned())
        .filter(|c| c.as_slice() != *signer)
        .map(CertificateDer::from)
        .collect();
    let t: jiff::Timestamp = info.gen_time.parse().map_err(|e| format!("{e}"))?;
    let time =
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(t.as_second().max(0) as u64));
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &tas,
        &inter,
        time,
        webpki::KeyUsage::required(oid::TIME_STAMPING),
        None,
        None,
    )
    .map_err(|e| {
        format!(
            "the TSA certificate chain does not reach the trusted TSA CA at genTime {}: {e:?}",
            info.gen_time
        )
    })?;
    Ok(())
}

/// PEM blocks of type CERTIFICATE in `text`, as DER.
pub fn pem_certs(text: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    let mut out = vec![];
    let mut cur: Option<String> = None;
    for line in text.lines() {
        let l = line.trim();
        if l == "-----BEGIN CERTIFICATE-----" {
            cur = Some(String::new());
        } else if l == "-----END CERTIFICATE-----" {
            if let Some(b) = cur.take()
                && let Ok(d) = base64::engine::general_purpose::STANDARD.decode(b)
            {
                out.push(d);
            }
        } else if let Some(b) = cur.as_mut() {
            b.push_str(l);
        }
    }
    out
}

/// DER certificates as PEM text.
pub fn to_pem(certs: &[Vec<u8>]) -> String {
    use base64::Engine;
    let mut s = String::new();
    for c in certs {
        s.push_str("-----BEGIN CERTIFICATE-----\n");
        let b = base64::engine::general_purpose::STANDARD.encode(c);
        for chunk in b.as_bytes().chunks(64) {
            s.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
            s.push('\n');
        }
        s.push_str("-----END CERTIFICATE-----\n");
    }
    s
}

/// Self-signed certificates among `certs` (issuer == subject): roots.
pub fn self_signed(certs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    certs
        .iter()
        .filter(|c| {
            parse_cert(c)
                .map(|p| p.issuer == p.subject)
                .unwrap_or(false)
        })
        .cloned()
        .collect()
}
