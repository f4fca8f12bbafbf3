//! RFC 3161 time-stamp requests and the native check of a TimeStampResp.
//!
//! The ASN.1 is read by RustCrypto's strict DER decoder (`der`, with `cms` for the
//! SignedData and `x509-cert` for certificates): a non-minimal length, an indefinite
//! length or trailing bytes make a reply unreadable rather than quietly accepted. The RFC
//! 3161 types themselves (TimeStampReq, TimeStampResp, TSTInfo) and the ESS attributes are
//! defined below: `x509-tsp` decodes genTime as an RFC 5280 GeneralizedTime, which refuses
//! the fractional seconds RFC 3161 allows and real TSAs send.
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
//!    serial number (or subject key identifier), and its signature over the DER of the
//!    signed attributes verifies (ECDSA P-256/P-384, RSA PKCS#1 v1.5, RSASSA-PSS with
//!    MGF1 over the same SHA-2 hash and a salt as long as the hash);
//! 6. the signer certificate has an extended key usage extension that is marked critical
//!    and contains id-kp-timeStamping;
//! 7. when trust anchors are given: the chain from the signer certificate (intermediates
//!    from the token and the given chain) reaches one of them, valid at genTime, with the
//!    timeStamping EKU (rustls-webpki). Revocation is not checked.
//!
//! Signatures and chains are aws-lc-rs's and webpki's; this file only decides which
//! algorithm a token names and hands them the bytes.
//!
//! RSASSA-PSS from an rsaEncryption key is valid CMS (RFC 4056) and checked here, but
//! OpenSSL 3.0's `openssl ts -verify` refuses it (its PKCS#7 code verifies such a key as
//! PKCS#1 v1.5); `openssl cms -verify` on the token accepts it. PSS from an
//! id-RSASSA-PSS key passes both.

use aws_lc_rs::digest;
use aws_lc_rs::signature;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{Any, Int, ObjectIdentifier as Oid, OctetString};
use der::{Decode, Encode, Reader, Sequence, SliceReader, Tag, TagNumber, Tagged};
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::Serialize;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectKeyIdentifier};

/// The object identifiers this file compares against.
mod oid {
    use der::asn1::ObjectIdentifier as Oid;
    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
    pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
    pub const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
    pub const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
    pub const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
    pub const SIGNING_CERT: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
    pub const SIGNING_CERT_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
    pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
    pub const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
    pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
    pub const TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
    pub const CN: Oid = Oid::new_unwrap("2.5.4.3");
    pub const O: Oid = Oid::new_unwrap("2.5.4.10");
    pub const C: Oid = Oid::new_unwrap("2.5.4.6");
}

// ---------------------------------------------------------------------------
// RFC 3161 and ESS types (RFC 3161 section 2.4, RFC 2634 and RFC 5035)
// ---------------------------------------------------------------------------

/// `MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }`
#[derive(Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// `TimeStampReq`, without reqPolicy and extensions (never sent here).
#[derive(Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(default = "Default::default")]
    cert_req: bool,
}

/// `PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
/// failInfo PKIFailureInfo OPTIONAL }`; only the status is read.
#[derive(Sequence)]
struct PkiStatusInfo {
    status: Int,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<der::asn1::BitString>,
}

/// `TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo OPTIONAL }`
#[derive(Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    token: Option<ContentInfo>,
}

/// `Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER OPTIONAL,
/// micros [1] INTEGER OPTIONAL }`: typed so an absent one is told from `ordering`.
#[derive(Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<Int>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<Int>,
}

/// `TSTInfo`. genTime is kept as the element it is (a GeneralizedTime, checked and read
/// by [`parse_gen_time`]): `der`'s own GeneralizedTime refuses fractional seconds.
#[derive(Sequence)]
struct TstInfo {
    version: u8,
    policy: Oid,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: Any,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<Any>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<x509_cert::ext::Extensions>,
}

/// `ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT sha256,
/// certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL }`
#[derive(Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

/// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies … OPTIONAL }`
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// `ESSCertID ::= SEQUENCE { certHash OCTET STRING (SHA-1), issuerSerial … OPTIONAL }`
#[derive(Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

/// `SigningCertificate ::= SEQUENCE { certs SEQUENCE OF ESSCertID, policies … OPTIONAL }`
#[derive(Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// `RSASSA-PSS-params` (RFC 4055): every field read as present or absent, the defaults
/// (SHA-1, MGF1 with SHA-1, salt 20, trailer 1) applied by [`pss_algorithm`].
#[derive(Sequence)]
struct RsaPssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_len: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer: Option<u32>,
}

/// A DER decoding error, with what was being read.
fn bad(what: &str) -> impl Fn(der::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/// A TimeStampReq over a SHA-256 digest with certReq = true and the given nonce (the
/// content bytes of a minimally encoded INTEGER, as [`new_nonce`] makes).
pub fn request(sha256: &[u8; 32], nonce: &[u8]) -> Result<Vec<u8>, String> {
    let req = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: oid::SHA256,
                parameters: Some(Any::null()),
            },
            hashed_message: OctetString::new(sha256.as_slice()).map_err(bad("the digest"))?,
        },
        nonce: Some(Int::new(nonce).map_err(bad("the nonce"))?),
        cert_req: true,
    };
    req.to_der().map_err(bad("encoding the TimeStampReq"))
}

/// A fresh positive 8-byte nonce, minimally encoded as an INTEGER's content.
pub fn new_nonce() -> Vec<u8> {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    b[0] = (b[0] & 0x7f) | 0x01;
    b.to_vec()
}

// ---------------------------------------------------------------------------
// Checking a reply
// ---------------------------------------------------------------------------

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

/// CN, O and C of a Name, in the order they appear, for people.
fn name_text(name: &x509_cert::name::Name) -> String {
    name.iter()
        .filter_map(|atv| {
            let label = match atv.oid {
                oid::CN => "CN",
                oid::O => "O",
                oid::C => "C",
                _ => return None,
            };
            Some(format!(
                "{label}={}",
                String::from_utf8_lossy(atv.value.value())
            ))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn sha(alg: &Oid, data: &[u8]) -> Result<Vec<u8>, String> {
    let a = match *alg {
        oid::SHA256 => &digest::SHA256,
        oid::SHA384 => &digest::SHA384,
        oid::SHA512 => &digest::SHA512,
        oid::SHA1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        other => return Err(format!("unsupported digest algorithm {other}")),
    };
    Ok(digest::digest(a, data).as_ref().to_vec())
}

/// genTime, `YYYYMMDDHHMMSS[.fff…]Z` (RFC 3161 section 2.4.2).
fn parse_gen_time(t: &Any) -> Result<jiff::Timestamp, String> {
    if t.tag() != Tag::GeneralizedTime {
        return Err(format!("genTime is a {}, not a GeneralizedTime", t.tag()));
    }
    let s = std::str::from_utf8(t.value()).map_err(|_| "genTime is not ASCII")?;
    let body = s.strip_suffix('Z').ok_or("genTime is not UTC (no Z)")?;
    let (main, frac) = body.split_once('.').unwrap_or((body, ""));
    if main.len() != 14
        || !main.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || body.contains('.') && frac.is_empty()
    {
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

/// A decoded token: the SignedData and the certificates it carries, as DER.
struct Token {
    signed: SignedData,
    certs: Vec<Vec<u8>>,
}

/// The token of a TimeStampResp whose status is granted (or granted with changes).
fn token_of(resp: &[u8]) -> Result<Token, String> {
    let r = TimeStampResp::from_der(resp).map_err(bad("not a DER TimeStampResp"))?;
    let st = r.status.status.as_bytes();
    if st != [0] && st != [1] {
        return Err(format!(
            "the TSA refused: PKIStatus {}",
            st.first().copied().unwrap_or(255)
        ));
    }
    let ci = r.token.ok_or("the reply holds no time-stamp token")?;
    if ci.content_type != oid::SIGNED_DATA {
        return Err("the token is not CMS SignedData".into());
    }
    let signed: SignedData = ci
        .content
        .decode_as()
        .map_err(bad("the token's SignedData"))?;
    let certs = certs_in_order(&ci.content).map_err(bad("the token's certificates"))?;
    Ok(Token { signed, certs })
}

/// The X.509 certificates of a SignedData (already decoded, so well formed), as the
/// bytes and in the order the token carries them: `der` sorts a SET OF as it reads it,
/// and openssl writes the signer's certificate first, unsorted.
fn certs_in_order(signed_data: &Any) -> der::Result<Vec<Vec<u8>>> {
    let mut r = SliceReader::new(signed_data.value())?;
    // version, digestAlgorithms, encapContentInfo
    for _ in 0..3 {
        Any::decode(&mut r)?;
    }
    let certificates = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(0),
    };
    let mut out = vec![];
    if !r.is_finished() && Tag::peek(&r)? == certificates {
        let set = Any::decode(&mut r)?;
        let mut s = SliceReader::new(set.value())?;
        while !s.is_finished() {
            let c = Any::decode(&mut s)?;
            if c.tag() == Tag::Sequence {
                out.push(c.to_der()?);
            }
        }
    }
    Ok(out)
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
    let token = token_of(resp)?;
    let (mut info, signer) = check_token(&token, data_sha256, nonce)?;
    if !anchors.is_empty() {
        check_chain(&token, &signer, anchors, extra_chain, &info)?;
        info.chain_checked = true;
    }
    Ok(info)
}

/// The certificates carried in a TimeStampResp's token (DER), in the token's order.
pub fn token_certs(resp: &[u8]) -> Vec<Vec<u8>> {
    token_of(resp).map(|t| t.certs).unwrap_or_default()
}

/// The one signer of a SignedData over a TSTInfo, and the TSTInfo's DER.
fn signer_and_tst_info(sd: &SignedData) -> Result<(&SignerInfo, &[u8]), String> {
    if sd.encap_content_info.econtent_type != oid::TST_INFO {
        return Err("the token's eContentType is not id-ct-TSTInfo".into());
    }
    let econtent = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or("the token carries no TSTInfo")?;
    if econtent.tag() != Tag::OctetString {
        return Err("the token's eContent is not an OCTET STRING".into());
    }
    let mut signers = sd.signer_infos.0.iter();
    let signer = signers.next().ok_or("the token has no signer")?;
    if signers.next().is_some() {
        return Err("the token has more than one signer".into());
    }
    Ok((signer, econtent.value()))
}

/// Steps 2 to 6 of the module doc. Returns what the token says and its signer
/// certificate (DER).
fn check_token(
    token: &Token,
    data_sha256: &[u8; 32],
    nonce: Option<&[u8]>,
) -> Result<(TokenInfo, Vec<u8>), String> {
    let (si, econtent) = signer_and_tst_info(&token.signed)?;
    let t = TstInfo::from_der(econtent).map_err(bad("the token's TSTInfo"))?;
    if t.message_imprint.hash_algorithm.oid != oid::SHA256 {
        return Err("the token's message imprint is not SHA-256".into());
    }
    if t.message_imprint.hashed_message.as_bytes() != data_sha256 {
        return Err("the token's message imprint does not match the checkpoint's SHA-256".into());
    }
    let gen_time = parse_gen_time(&t.gen_time)?;
    if let Some(want) = nonce
        && t.nonce.as_ref().map(|n| n.as_bytes()) != Some(want)
    {
        return Err("the token's nonce is not the one sent".into());
    }

    // The signed attributes.
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or("the signer has no signed attributes")?;
    let mut content_type_ok = false;
    let mut message_digest = None;
    let mut ess_v2: Option<(Oid, Vec<u8>)> = None; // (hash alg, cert hash)
    let mut ess_v1: Option<Vec<u8>> = None;
    for a in attrs.iter() {
        let Some(v) = a.values.iter().next() else {
            continue;
        };
        match a.oid {
            oid::CONTENT_TYPE => {
                content_type_ok = v.decode_as::<Oid>().ok() == Some(oid::TST_INFO);
            }
            oid::MESSAGE_DIGEST => {
                let md: OctetString = v.decode_as().map_err(bad("the message-digest"))?;
                message_digest = Some(md.as_bytes().to_vec());
            }
            oid::SIGNING_CERT_V2 => {
                let sc: SigningCertificateV2 = v
                    .decode_as()
                    .map_err(bad("the ESS signing-certificate-v2"))?;
                let first = sc
                    .certs
                    .into_iter()
                    .next()
                    .ok_or("the ESS signing-certificate-v2 names no certificate")?;
                let alg = first.hash_algorithm.map(|a| a.oid).unwrap_or(oid::SHA256);
                ess_v2 = Some((alg, first.cert_hash.as_bytes().to_vec()));
            }
            oid::SIGNING_CERT => {
                let sc: SigningCertificate =
                    v.decode_as().map_err(bad("the ESS signing-certificate"))?;
                let first = sc
                    .certs
                    .into_iter()
                    .next()
                    .ok_or("the ESS signing-certificate names no certificate")?;
                ess_v1 = Some(first.cert_hash.as_bytes().to_vec());
            }
            _ => {}
        }
    }
    if !content_type_ok {
        return Err("the signed content-type attribute is missing or not id-ct-TSTInfo".into());
    }
    let md = message_digest.ok_or("the signed message-digest attribute is missing")?;
    if sha(&si.digest_alg.oid, econtent)? != md {
        return Err(
            "the signed message-digest does not match the TSTInfo (the token was altered)".into(),
        );
    }
    let (ess_alg, ess_hash) = ess_v2
        .or(ess_v1.map(|h| (oid::SHA1, h)))
        .ok_or("no ESS signing-certificate attribute")?;

    // The signer certificate: named by the ESS hash, and by the SignerInfo's sid.
    let mut signer = None;
    for c in &token.certs {
        if sha(&ess_alg, c)? == ess_hash {
            signer = Some(c);
        }
    }
    let signer_der = signer.ok_or("no certificate in the token matches the ESS signing-certificate hash (certReq was not honoured, or the token was altered)")?;
    let signer = Certificate::from_der(signer_der).map_err(bad("the TSA certificate"))?;
    let tbs = signer.tbs_certificate();
    let names_signer = match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            isn.issuer == *tbs.issuer() && isn.serial_number == *tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            match tbs.get_extension::<SubjectKeyIdentifier>() {
                Ok(Some((_, own))) => own == *ski,
                // A certificate without the extension cannot be named this way; the
                // ESS hash above has named it.
                Ok(None) => true,
                Err(e) => return Err(format!("the TSA certificate's key identifier: {e}")),
            }
        }
    };
    if !names_signer {
        return Err(
            "the SignerInfo names another certificate than the ESS signing-certificate".into(),
        );
    }

    // The signature over the DER of the signed attributes (a SET OF, RFC 5652 section 5.4).
    let signed = attrs.to_der().map_err(bad("the signed attributes"))?;
    verify_sig(
        tbs.subject_public_key_info(),
        &si.digest_alg.oid,
        &si.signature_algorithm,
        &signed,
        si.signature.as_bytes(),
    )?;

    // RFC 3161 section 2.3: the EKU must be critical and name timeStamping.
    let eku = tbs
        .extensions()
        .into_iter()
        .flatten()
        .find(|e| e.extn_id == oid::EXT_KEY_USAGE);
    match eku {
        None => return Err("the TSA certificate has no extended key usage".into()),
        Some(e) if !e.critical => {
            return Err("the TSA certificate's extended key usage is not critical".into());
        }
        Some(e) => {
            let purposes = ExtendedKeyUsage::from_der(e.extn_value.as_bytes())
                .map_err(bad("the TSA certificate's extended key usage"))?;
            if !purposes.0.contains(&oid::TIME_STAMPING) {
                return Err("the TSA certificate's extended key usage lacks timeStamping".into());
            }
        }
    }

    let info = TokenInfo {
        gen_time: gen_time.to_string(),
        serial: hex::encode(t.serial_number.as_bytes()),
        policy: t.policy.to_string(),
        signer: name_text(tbs.subject()),
        signer_cert_sha256: hex::encode(sha(&oid::SHA256, signer_der)?),
        chain_checked: false,
    };
    Ok((info, signer_der.clone()))
}

/// The aws-lc-rs algorithm for RSASSA-PSS with these parameters: MGF1 over the same
/// SHA-2 hash and a salt as long as the hash (RFC 4055's recommended forms; the SHA-1
/// defaults and other combinations are refused by name).
fn pss_algorithm(
    params: Option<&Any>,
) -> Result<&'static dyn signature::VerificationAlgorithm, String> {
    let p: RsaPssParams = params
        .ok_or("RSA-PSS signature without parameters")?
        .decode_as()
        .map_err(bad("the RSA-PSS parameters"))?;
    let hash = p.hash.map(|h| h.oid).unwrap_or(oid::SHA1);
    let mgf = p.mask_gen.as_ref();
    let mgf_hash = match mgf {
        None => oid::SHA1,
        Some(m) if m.oid == oid::MGF1 => {
            let h: AlgorithmIdentifierOwned = m
                .parameters
                .as_ref()
                .ok_or("RSA-PSS MGF1 without a hash")?
                .decode_as()
                .map_err(bad("the RSA-PSS MGF1 hash"))?;
            h.oid
        }
        Some(m) => return Err(format!("unsupported RSA-PSS mask generation {}", m.oid)),
    };
    let (alg, len): (&'static dyn signature::VerificationAlgorithm, u32) = match hash {
        oid::SHA256 => (&signature::RSA_PSS_2048_8192_SHA256, 32),
        oid::SHA384 => (&signature::RSA_PSS_2048_8192_SHA384, 48),
        oid::SHA512 => (&signature::RSA_PSS_2048_8192_SHA512, 64),
        other => return Err(format!("unsupported RSA-PSS hash {other}")),
    };
    if mgf_hash != hash {
        return Err(format!(
            "unsupported RSA-PSS parameters: MGF1 over {mgf_hash}, hash {hash}"
        ));
    }
    if p.salt_len.unwrap_or(20) != len || p.trailer.unwrap_or(1) != 1 {
        return Err(format!(
            "unsupported RSA-PSS parameters: salt length {} for {hash}",
            p.salt_len.unwrap_or(20)
        ));
    }
    Ok(alg)
}

fn verify_sig(
    spki: &spki::SubjectPublicKeyInfoOwned,
    digest_alg: &Oid,
    sig_alg: &AlgorithmIdentifierOwned,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), String> {
    let alg: &dyn signature::VerificationAlgorithm = match spki.algorithm.oid {
        oid::EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<Oid>().ok());
            match (curve, *digest_alg) {
                (Some(oid::P256), oid::SHA256) => &signature::ECDSA_P256_SHA256_ASN1,
                (Some(oid::P256), oid::SHA384) => &signature::ECDSA_P256_SHA384_ASN1,
                (Some(oid::P384), oid::SHA256) => &signature::ECDSA_P384_SHA256_ASN1,
                (Some(oid::P384), oid::SHA384) => &signature::ECDSA_P384_SHA384_ASN1,
                (Some(oid::P384), oid::SHA512) => &signature::ECDSA_P384_SHA512_ASN1,
                (curve, d) => {
                    let curve = curve.map(|c| c.to_string()).unwrap_or_default();
                    return Err(format!("unsupported ECDSA curve/digest {curve} / {d}"));
                }
            }
        }
        // rsaEncryption keys sign with PKCS#1 v1.5 (sig_alg rsaEncryption or
        // shaXWithRSAEncryption) or PSS; id-RSASSA-PSS keys only with PSS.
        key @ (oid::RSA | oid::RSASSA_PSS) => {
            if sig_alg.oid == oid::RSASSA_PSS {
                pss_algorithm(sig_alg.parameters.as_ref())?
            } else if key == oid::RSASSA_PSS {
                return Err(format!(
                    "an RSA-PSS key with the signature algorithm {}",
                    sig_alg.oid
                ));
            } else {
                match *digest_alg {
                    oid::SHA256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    oid::SHA384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    oid::SHA512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    other => return Err(format!("unsupported RSA digest {other}")),
                }
            }
        }
        other => return Err(format!("unsupported TSA key type {other}")),
    };
    signature::UnparsedPublicKey::new(alg, spki.subject_public_key.raw_bytes())
        .verify(msg, sig)
        .map_err(|_| "the TSA's signature does not verify (the token was altered)".to_string())
}

fn check_chain(
    token: &Token,
    signer: &[u8],
    anchors: &[Vec<u8>],
    extra: &[Vec<u8>],
    info: &TokenInfo,
) -> Result<(), String> {
    let ee_der = CertificateDer::from(signer);
    let ee = webpki::EndEntityCert::try_from(&ee_der)
        .map_err(|e| format!("the TSA certificate is unreadable: {e:?}"))?;
    let anchor_ders: Vec<CertificateDer> = anchors
        .iter()
        .map(|a| CertificateDer::from(a.as_slice()))
        .collect();
    let mut tas = vec![];
    for a in &anchor_ders {
        tas.push(
            webpki::anchor_from_trusted_cert(a)
                .map_err(|e| format!("a trust anchor is unreadable: {e:?}"))?
                .to_owned(),
        );
    }
    let inter: Vec<CertificateDer> = token
        .certs
        .iter()
        .chain(extra)
        .filter(|c| c.as_slice() != signer)
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let t: jiff::Timestamp = info.gen_time.parse().map_err(|e| format!("{e}"))?;
    let time =
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(t.as_second().max(0) as u64));
    let time_stamping = oid::TIME_STAMPING.as_bytes();
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &tas,
        &inter,
        time,
        webpki::KeyUsage::required(time_stamping),
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

// ---------------------------------------------------------------------------
// PEM
// ---------------------------------------------------------------------------

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
        let mut rest = b.as_str();
        while !rest.is_empty() {
            // base64 is ASCII: any byte index is a character boundary.
            let (line, tail) = rest.split_at(rest.len().min(64));
            s.push_str(line);
            s.push('\n');
            rest = tail;
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
            Certificate::from_der(c)
                .map(|p| p.tbs_certificate().issuer() == p.tbs_certificate().subject())
                .unwrap_or(false)
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TimeStampReq the hand-written encoder made before (known answer): version 1,
    /// SHA-256 imprint with NULL parameters, the nonce, certReq TRUE.
    #[test]
    fn request_is_the_known_encoding() {
        let digest = [0xabu8; 32];
        let nonce = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0];
        let mut want = vec![
            0x30, 0x43, 0x02, 0x01, 0x01, 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09,
        ];
        want.extend_from_slice(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]);
        want.extend_from_slice(&[0x05, 0x00, 0x04, 0x20]);
        want.extend_from_slice(&digest);
        want.extend_from_slice(&[0x02, 0x08]);
        want.extend_from_slice(&nonce);
        want.extend_from_slice(&[0x01, 0x01, 0xff]);
        assert_eq!(request(&digest, &nonce).unwrap(), want);
    }

    /// The object identifiers, against the content bytes the hand-written reader used.
    #[test]
    fn oids_are_the_known_encodings() {
        let known: [(Oid, &[u8]); 17] = [
            (
                oid::SHA256,
                &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
            ),
            (
                oid::SHA384,
                &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02],
            ),
            (
                oid::SHA512,
                &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03],
            ),
            (oid::SHA1, &[0x2b, 0x0e, 0x03, 0x02, 0x1a]),
            (
                oid::SIGNED_DATA,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02],
            ),
            (
                oid::TST_INFO,
                &[
                    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
                ],
            ),
            (
                oid::CONTENT_TYPE,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03],
            ),
            (
                oid::MESSAGE_DIGEST,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04],
            ),
            (
                oid::SIGNING_CERT,
                &[
                    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0c,
                ],
            ),
            (
                oid::SIGNING_CERT_V2,
                &[
                    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f,
                ],
            ),
            (
                oid::EC_PUBLIC_KEY,
                &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01],
            ),
            (oid::P256, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
            (oid::P384, &[0x2b, 0x81, 0x04, 0x00, 0x22]),
            (
                oid::RSA,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
            ),
            (
                oid::RSASSA_PSS,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a],
            ),
            (oid::EXT_KEY_USAGE, &[0x55, 0x1d, 0x25]),
            (
                oid::TIME_STAMPING,
                &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08],
            ),
        ];
        for (o, bytes) in known {
            assert_eq!(o.as_bytes(), bytes, "{o}");
        }
        assert_eq!(oid::TIME_STAMPING.to_string(), "1.3.6.1.5.5.7.3.8");
        assert_eq!(oid::SHA256.to_string(), "2.16.840.1.101.3.4.2.1");
    }

    #[test]
    fn nonces_are_positive_minimal_integers() {
        for _ in 0..32 {
            let n = new_nonce();
            assert_eq!(n.len(), 8);
            assert!(n[0] & 0x80 == 0 && n[0] != 0, "{n:?}");
            assert!(request(&[0; 32], &n).is_ok());
        }
    }

    /// Only MGF1 over the signature's own SHA-2 hash with a salt as long as the hash.
    #[test]
    fn pss_parameters() {
        let alg = |o: Oid| AlgorithmIdentifierOwned {
            oid: o,
            parameters: Some(Any::null()),
        };
        let mgf1 = |o: Oid| AlgorithmIdentifierOwned {
            oid: oid::MGF1,
            parameters: Some(Any::encode_from(&alg(o)).unwrap()),
        };
        let params = |hash: Oid, mgf: Oid, salt: Option<u32>| {
            let p = RsaPssParams {
                hash: Some(alg(hash)),
                mask_gen: Some(mgf1(mgf)),
                salt_len: salt,
                trailer: None,
            };
            Any::encode_from(&p).unwrap()
        };
        assert!(pss_algorithm(Some(&params(oid::SHA256, oid::SHA256, Some(32)))).is_ok());
        assert!(pss_algorithm(Some(&params(oid::SHA384, oid::SHA384, Some(48)))).is_ok());
        assert!(pss_algorithm(Some(&params(oid::SHA512, oid::SHA512, Some(64)))).is_ok());
        let refused = |p: Option<&Any>| pss_algorithm(p).err().unwrap_or_default();
        assert!(refused(Some(&params(oid::SHA256, oid::SHA256, None))).contains("salt"));
        assert!(refused(Some(&params(oid::SHA256, oid::SHA1, Some(32)))).contains("MGF1"));
        assert!(refused(Some(&params(oid::SHA1, oid::SHA1, Some(20)))).contains("hash"));
        // All defaults: SHA-1.
        let defaults = Any::encode_from(&RsaPssParams {
            hash: None,
            mask_gen: None,
            salt_len: None,
            trailer: None,
        })
        .unwrap();
        assert!(refused(Some(&defaults)).contains("hash"));
        assert!(refused(None).contains("without parameters"));
    }

    #[test]
    fn gen_time_forms() {
        let t = |s: &str| Any::new(Tag::GeneralizedTime, s.as_bytes()).unwrap();
        assert_eq!(
            parse_gen_time(&t("20260102030405Z")).unwrap().to_string(),
            "2026-01-02T03:04:05Z"
        );
        assert_eq!(
            parse_gen_time(&t("20260102030405.25Z"))
                .unwrap()
                .to_string(),
            "2026-01-02T03:04:05.25Z"
        );
        for bad in [
            "20260102030405",
            "20260102030405.Z",
            "2026010203040Z",
            "20260102030405+0100",
            "20261302030405Z",
        ] {
            assert!(parse_gen_time(&t(bad)).is_err(), "{bad}");
        }
        let utc = Any::new(Tag::UtcTime, b"260102030405Z".as_slice()).unwrap();
        assert!(parse_gen_time(&utc).is_err());
    }

    /// A response whose status alone is encoded with a non-minimal length: the hand-written
    /// reader took `30 81 03` for `30 03`.
    #[test]
    fn non_minimal_lengths_are_refused() {
        let minimal = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02];
        assert_eq!(
            check_response(&minimal, &[0; 32], None, &[], &[]).unwrap_err(),
            "the TSA refused: PKIStatus 2"
        );
        let long = [0x30, 0x06, 0x30, 0x81, 0x03, 0x02, 0x01, 0x02];
        let e = check_response(&long, &[0; 32], None, &[], &[]).unwrap_err();
        assert!(e.starts_with("not a DER TimeStampResp"), "{e}");
        let trailing = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02, 0x00];
        assert!(check_response(&trailing, &[0; 32], None, &[], &[]).is_err());
        let indefinite = [0x30, 0x80, 0x30, 0x03, 0x02, 0x01, 0x02, 0x00, 0x00];
        assert!(check_response(&indefinite, &[0; 32], None, &[], &[]).is_err());
    }

    #[test]
    fn pem_round_trip() {
        let certs = vec![vec![1u8; 100], vec![2u8; 48]];
        let pem = to_pem(&certs);
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(pem_certs(&pem), certs);
    }
}
