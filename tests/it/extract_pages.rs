//! The generic web extractor on real saved pages and on built charset cases.

use samizdat::extract::{decode_text, html_to_text, sanitize_html};
use samizdat::model::{MediaKind, Post};
use samizdat::platforms::Response;
use samizdat::platforms::web::page_post;
use serde_json::Value;
use url::Url;

fn fixture(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/fixtures/generic_web/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn response(url: &str, content_type: Option<&str>, body: Vec<u8>) -> Response {
    Response {
        url: Url::parse(url).unwrap(),
        status: 200,
        headers: content_type
            .map(|c| vec![("content-type".to_string(), c.to_string())])
            .unwrap_or_default(),
        body,
        truncated: false,
    }
}

fn post_of(url: &str, content_type: Option<&str>, body: Vec<u8>) -> Post {
    let r = response(url, content_type, body);
    page_post(&Url::parse(url).unwrap(), &r)
}

const UOL_URL: &str = "https://entretenimento.uol.com.br/noticias/redacao/2019/05/27/gabriel-diniz-do-hit-jenifer-se-envolve-em-acidente-de-aviao-em-sergipe.html";

fn expected(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

/// extruct's OpenGraph `properties` pairs, all present in our `opengraph` map.
fn assert_opengraph_matches(post: &Post, expected_og: &Value) {
    let og = post.extra["opengraph"].as_object().expect("opengraph map");
    let props = expected_og[0]["properties"].as_array().unwrap();
    assert!(!props.is_empty());
    for pair in props {
        let (k, v) = (pair[0].as_str().unwrap(), &pair[1]);
        let got = og.get(k).unwrap_or_else(|| panic!("opengraph lacks {k}"));
        let ok = got == v || got.as_array().is_some_and(|a| a.contains(v));
        assert!(ok, "{k}: expected {v}, got {got}");
    }
}

#[test]
fn uol_news_article_prefers_jsonld_over_broken_meta() {
    let p = post_of(
        UOL_URL,
        Some("text/html"),
        fixture("news_article_uol_NewsArticle_jsonld_og.html"),
    );
    assert_eq!(p.platform, "web");
    assert_eq!(
        p.id.0,
        format!(
            "web:{}",
            samizdat::platforms::web::platform_id(&Url::parse(UOL_URL).unwrap())
        )
    );
    // og:title is cut by unescaped quotes; the JSON-LD headline is whole.
    assert_eq!(
        p.title.as_deref(),
        Some("Gabriel Diniz, do hit \"Jenifer\", morre em acidente de avião em Sergipe")
    );
    assert_eq!(
        p.author.as_ref().and_then(|a| a.name.as_deref()),
        Some("Felipe Branco Cruz e Osmar Portilho")
    );
    // JSON-LD datePublished, not article:published_time (the cache time).
    assert_eq!(p.created_at.as_deref(), Some("2019-05-27T14:09:58-03:00"));
    assert_eq!(
        p.created_at_raw.as_deref(),
        Some("2019-05-27T14:09:58-03:00")
    );
    let text = p.text.as_deref().unwrap();
    assert!(
        text.starts_with(
            "Gabriel Diniz, famoso pelo hit \"Jenifer\", morreu em um acidente de avião hoje"
        ),
        "{text}"
    );
    assert!(
        text.contains("Parque das Acácias.\n\n\"A Luan Promoções"),
        "paragraphs split by blank lines"
    );
    assert!(text.contains("aeronave de matrícula PT-KLO"));
    assert!(!text.contains("Veja também"), "related links box dropped");
    assert!(
        !text.contains("Clique para salvar o link"),
        "share widget dropped"
    );
    assert!(
        !text.contains("Maiara desativa conta"),
        "other stories dropped"
    );
    let html = p.html.as_deref().unwrap();
    assert!(html.contains("Porto do Mato") && !html.contains("<script"));
    assert!(
        html.contains("mapa-gabriel-diniz-1558983456243_v2_450x600.jpg\""),
        "lazy src used"
    );
    let urls: Vec<&str> = p.media.iter().map(|m| m.url.as_str()).collect();
    assert_eq!(
        urls[0],
        "https://conteudo.imguol.com.br/c/entretenimento/82/2019/01/11/o-cantor-gabriel-diniz-1547244108705_v2_615x300.jpg"
    );
    assert_eq!(
        urls[1],
        "https://conteudo.imguol.com.br/c/entretenimento/82/2019/01/11/o-cantor-gabriel-diniz-1547244108705_v2_1280x1920.jpg"
    );
    assert!(urls.contains(&"https://conteudo.imguol.com.br/c/noticias/66/2019/05/27/mapa-gabriel-diniz-1558983456243_v2_450x600.jpg"));
    assert!(!urls.iter().any(|u| u.ends_with(".jpgx")));
    assert!(p.media.iter().all(|m| m.kind == MediaKind::Image));
    assert!(p.media.len() <= 20);
    let mut dedup = urls.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), urls.len(), "media de-duplicated");
    let x = &p.extra;
    assert!(
        x["description"]
            .as_str()
            .unwrap()
            .starts_with("Gabriel Diniz, famoso pelo hit \"Jenifer\", morreu")
    );
    assert_eq!(x["lang"], "pt-br");
    assert_eq!(x["site_name"], "uol.com.br");
    assert_eq!(x["charset"]["name"], "UTF-8");
    assert!(
        x["broken_meta"]
            .as_array()
            .unwrap()
            .contains(&Value::from("og:title"))
    );
    assert_eq!(x["jsonld"][0]["@type"], "NewsArticle");
    assert_eq!(x["twitter"]["twitter:card"], "summary_large_image");
    assert!(p.url.starts_with(UOL_URL), "canonical URL: {}", p.url);
}

#[test]
fn extruct_opengraph_article() {
    let url = "https://www.eventeducation.com/test.php";
    let p = post_of(
        url,
        Some("text/html"),
        fixture("extruct_opengraph_article_test.html"),
    );
    assert_opengraph_matches(
        &p,
        &expected("extruct_opengraph_article_test.expected.json"),
    );
    assert_eq!(p.title.as_deref(), Some("Himanshu's Open Graph Protocol"));
    // article:author is a profile URL, not a name.
    let a = p.author.as_ref().unwrap();
    assert_eq!(a.url.as_deref(), Some("http://facebook.com/AUTHOR"));
    assert_eq!(a.name, None);
    assert_eq!(p.created_at.as_deref(), Some("2012-04-04T19:50:00-07:00"));
    assert_eq!(p.media.len(), 1);
    assert_eq!(
        p.media[0].url,
        "https://www.eventeducation.com/images/982336_wedding_dayandouan_th.jpg"
    );
    assert_eq!(p.extra["site_name"], "Event Education");
    assert_eq!(p.extra["lang"], "en-us");
    assert_eq!(p.extra["charset"]["name"], "windows-1252");
    assert_eq!(p.extra["charset"]["source"], "meta");
    assert!(
        p.extra["description"]
            .as_str()
            .unwrap()
            .starts_with("Event Education provides free courses")
    );
    assert!(
        !p.text.as_deref().unwrap_or("").contains("facebook-jssdk"),
        "script text dropped"
    );
}

#[test]
fn extruct_songkick_jsonld_and_opengraph_match_golden() {
    let url = "http://www.songkick.com/artists/236156-elysian-fields";
    let p = post_of(
        url,
        Some("text/html; charset=utf-8"),
        fixture("extruct_songkick_elysianfields.html"),
    );
    let golden = expected("extruct_songkick_elysianfields.expected.json");
    assert_opengraph_matches(&p, &golden["opengraph"]);
    assert_eq!(
        p.extra["jsonld"], golden["json-ld"],
        "JSON-LD objects as extruct reads them"
    );
    assert_eq!(p.title.as_deref(), Some("Elysian Fields"));
    assert_eq!(p.url, url);
    assert_eq!(p.extra["canonical"], url);
    // An artist page: concert dates are not the page's date.
    assert_eq!(p.created_at, None);
    let urls: Vec<&str> = p.media.iter().map(|m| m.url.as_str()).collect();
    assert_eq!(
        &urls[..2],
        &[
            "http://images.sk-static.com/images/media/img/col4/20100330-103600-169450.jpg",
            "http://images.sk-static.com/SECONDARY_IMAGE.jpg"
        ]
    );
    assert!(urls.contains(
        &"https://images.sk-static.com/images/media/profile_images/artists/236156/card_avatar"
    ));
    assert!(p.text.as_deref().unwrap().contains("Hotel Utah Saloon"));
    assert_eq!(p.extra["charset"]["source"], "http");
}

const ZH: &str = "反诈中心冻结了我的银行卡";

fn zh_page(head: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head>{head}<title>{ZH}</title></head><body><article><h1>{ZH}</h1><p>{ZH}。今天上午，我收到短信说我的账户涉嫌诈骗，被{ZH}，我去银行柜台询问，工作人员说需要等待调查结果。</p><p>第二段：{ZH}</p></article></body></html>"
    )
}

fn encode(enc: &'static encoding_rs::Encoding, s: &str) -> Vec<u8> {
    let (b, _, errors) = enc.encode(s);
    assert!(!errors);
    b.into_owned()
}

#[test]
fn gbk_via_http_charset() {
    let body = encode(encoding_rs::GBK, &zh_page(""));
    let d = decode_text(&body, Some("text/html; charset=GBK"));
    assert_eq!(d.encoding, encoding_rs::GBK);
    assert_eq!(d.source, "http");
    assert!(!d.had_errors);
    assert_eq!(d.text, zh_page(""));
    let p = post_of(
        "https://example.cn/a",
        Some("text/html; charset=gb2312"),
        body,
    );
    assert_eq!(p.title.as_deref(), Some(ZH));
    assert!(
        p.text
            .as_deref()
            .unwrap()
            .starts_with(&format!("{ZH}\n\n{ZH}。今天上午"))
    );
}

#[test]
fn gbk_via_meta_charset_both_forms() {
    for head in [
        "<meta charset=\"gb2312\">",
        "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gbk\">",
    ] {
        let page = zh_page(head);
        let d = decode_text(&encode(encoding_rs::GBK, &page), Some("text/html"));
        assert_eq!(d.source, "meta", "{head}");
        assert_eq!(d.encoding, encoding_rs::GBK);
        assert_eq!(d.text, page);
    }
}

#[test]
fn gbk_without_declaration_is_detected() {
    let page = zh_page("");
    let d = decode_text(&encode(encoding_rs::GBK, &page), None);
    assert_eq!(d.source, "detected");
    assert_eq!(d.text, page);
    // Short text too: just the phrase.
    let d = decode_text(&encode(encoding_rs::GBK, ZH), Some("text/plain"));
    assert_eq!(d.text, ZH);
}

#[test]
fn gbk_mislabelled_as_utf8_or_latin1() {
    let page = zh_page("<meta charset=\"utf-8\">");
    let body = encode(encoding_rs::GBK, &page);
    for ct in [
        "text/html; charset=utf-8",
        "text/html; charset=iso-8859-1",
        "text/html",
    ] {
        let d = decode_text(&body, Some(ct));
        assert_eq!(d.text, page, "{ct}");
        assert_eq!(d.source, "detected", "{ct}");
        assert!(!d.had_errors);
    }
    let p = post_of(
        "https://example.cn/b",
        Some("text/html; charset=utf-8"),
        body,
    );
    assert_eq!(p.title.as_deref(), Some(ZH));
    assert_eq!(p.extra["charset"]["source"], "detected");
}

#[test]
fn gb18030_and_big5() {
    let page = zh_page("<meta charset=\"gb18030\">");
    let d = decode_text(&encode(encoding_rs::GB18030, &page), None);
    assert_eq!(d.text, page);
    let trad = "反詐中心凍結了我的銀行卡，請問該怎麼辦？我已經打電話給銀行客服。";
    let page = format!(
        "<html><head><meta charset=\"big5\"><title>{trad}</title></head><body><p>{trad}</p></body></html>"
    );
    let body = encode(encoding_rs::BIG5, &page);
    let d = decode_text(&body, None);
    assert_eq!(d.encoding, encoding_rs::BIG5);
    assert_eq!(d.text, page);
    // Undeclared Big5 is detected too.
    let bare = page.replace("<meta charset=\"big5\">", "");
    let d = decode_text(&encode(encoding_rs::BIG5, &bare), None);
    assert_eq!(d.text, bare);
    let p = post_of(
        "https://example.tw/c",
        Some("text/html; charset=big5"),
        body,
    );
    assert_eq!(p.title.as_deref(), Some(trad));
}

#[test]
fn utf8_bom_wins_over_declarations() {
    let page = zh_page("<meta charset=\"gbk\">");
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend_from_slice(page.as_bytes());
    let d = decode_text(&body, Some("text/html; charset=iso-8859-1"));
    assert_eq!(d.source, "bom");
    assert_eq!(d.encoding, encoding_rs::UTF_8);
    assert_eq!(d.text, page);
    assert!(!d.text.starts_with('\u{feff}'));
}

#[test]
fn plain_ascii_and_real_latin1() {
    let d = decode_text(b"<p>hello</p>", None);
    assert_eq!(d.source, "default");
    assert_eq!(d.text, "<p>hello</p>");
    let latin = encode(
        encoding_rs::WINDOWS_1252,
        "<p>Café crème, déjà vu à l'hôtel Noël</p>",
    );
    let d = decode_text(&latin, Some("text/html; charset=iso-8859-1"));
    assert_eq!(d.source, "http");
    assert_eq!(d.text, "<p>Café crème, déjà vu à l'hôtel Noël</p>");
}

#[test]
fn sanitize_html_removes_active_content() {
    let base = Url::parse("https://example.org/dir/page.html").unwrap();
    let dirty = r#"<div><script>steal()</script><p style="x" onmouseover="steal()">Hi
        <a href="javascript:steal()">js</a> <a href="rel/link">rel</a>
        <img src="pic.jpg" onerror="steal()"> <iframe src="https://evil.example/"></iframe>
        <a href="data:text/html;base64,PHNjcmlwdD4=">data</a></p><style>p{}</style></div>"#;
    let s = sanitize_html(dirty, &base);
    assert!(!s.contains("<script") && !s.contains("steal"), "{s}");
    assert!(!s.contains("onerror") && !s.contains("onmouseover"), "{s}");
    assert!(!s.contains("javascript:"), "{s}");
    assert!(!s.contains("<iframe") && !s.contains("evil.example"), "{s}");
    assert!(!s.contains("<style") && !s.contains("data:text"), "{s}");
    assert!(s.contains(r#"<a href="https://example.org/dir/rel/link" rel="noopener noreferrer nofollow">rel</a>"#), "{s}");
    assert!(
        s.contains(r#"src="https://example.org/dir/pic.jpg""#),
        "{s}"
    );
}

#[test]
fn html_to_text_blocks_and_entities() {
    assert_eq!(
        html_to_text("<h1>T&amp;C</h1><p>a\n  b&nbsp;c<br>d</p><div>e</div><script>x</script>"),
        "T&C\n\na b c\nd\n\ne"
    );
}

#[test]
fn invalid_jsonld_keeps_what_parses() {
    let page = r#"<html><head><title>Fallback</title>
<script type="application/ld+json">//<![CDATA[
{ "@context": "https://schema.org", // comment
  "@type": "NewsArticle", "headline": "Real	headline", /* c */
  "datePublished": "2024-03-01T08:00:00+08:00",
  "author": [{"@type":"Person","name":"A. Writer"},{"@type":"Person","name":"B. Writer"}],
  "image": ["/img/lead.jpg"],
  "articleBody": "Body line one.
Body line two." }}
//]]></script>
<script type="application/ld+json">{ this is not json at all</script>
<script type="application/ld+json"></script>
<script type="application/ld+json">{"@graph": [{"@type": "WebSite", "name": "Site"}]}</script>
</head><body><p>x</p></body></html>"#;
    let p = post_of(
        "https://news.example/a/1",
        Some("text/html; charset=utf-8"),
        page.as_bytes().to_vec(),
    );
    assert_eq!(p.title.as_deref(), Some("Real headline"));
    assert_eq!(
        p.author.as_ref().unwrap().name.as_deref(),
        Some("A. Writer, B. Writer")
    );
    assert_eq!(p.created_at.as_deref(), Some("2024-03-01T08:00:00+08:00"));
    assert_eq!(p.text.as_deref(), Some("Body line one.\nBody line two."));
    assert_eq!(p.media[0].url, "https://news.example/img/lead.jpg");
    let ld = p.extra["jsonld"].as_array().unwrap();
    assert_eq!(
        ld.len(),
        2,
        "the article and the @graph holder; the garbage is dropped"
    );
    assert_eq!(ld[1]["@graph"][0]["name"], "Site");
}

#[test]
fn jsonld_graph_article() {
    let page = r#"<html><head><script type="application/ld+json">{"@context":"https://schema.org","@graph":[
      {"@type":"WebSite","name":"Blog"},
      {"@type":["BlogPosting"],"headline":"Graph post","author":{"@type":"Person","name":"G"},"datePublished":"2023-01-02T03:04:05Z"}]}</script>
      <meta property="og:title" content="OG title"><meta name="author" content="Meta Author"></head>
      <body><nav>Home About</nav><main><p>This is the main content of the graph post, long enough to count as a paragraph.</p></main><footer>Copyright</footer></body></html>"#;
    let p = post_of(
        "https://blog.example/p",
        Some("text/html"),
        page.as_bytes().to_vec(),
    );
    assert_eq!(p.title.as_deref(), Some("Graph post"));
    assert_eq!(p.author.unwrap().name.as_deref(), Some("G"));
    assert_eq!(p.created_at.as_deref(), Some("2023-01-02T03:04:05+00:00"));
    assert_eq!(
        p.text.as_deref(),
        Some("This is the main content of the graph post, long enough to count as a paragraph.")
    );
}

#[test]
fn meta_fallbacks_without_jsonld() {
    let page = r#"<html lang="de"><head><title> Plain  page </title><meta name="author" content="Meta Author">
      <meta name="description" content="Desc"><link rel="canonical" href="/canon?x=1">
      <base href="https://www.site.example/base/"></head>
      <body><header>Site header</header><article><p>Erster Absatz mit genug Text, um als Absatz zu zählen, und noch mehr.</p>
      <img src="big.jpg" width="800" height="600" alt="Big"><img src="icon.png" width="16" height="16">
      <div class="share-buttons">Teilen</div><p>Zweiter Absatz.</p></article><aside>Werbung</aside></body></html>"#;
    let p = post_of(
        "https://site.example/page#frag",
        Some("text/html"),
        page.as_bytes().to_vec(),
    );
    assert_eq!(p.title.as_deref(), Some("Plain page"));
    assert_eq!(p.author.unwrap().name.as_deref(), Some("Meta Author"));
    // The canonical is resolved against <base href>, and accepted on the same site only.
    assert_eq!(p.url, "https://www.site.example/canon?x=1");
    assert_eq!(p.alt_urls, vec!["https://site.example/page".to_string()]);
    assert_eq!(
        p.text.as_deref(),
        Some(
            "Erster Absatz mit genug Text, um als Absatz zu zählen, und noch mehr.\n\nZweiter Absatz."
        )
    );
    assert_eq!(p.media.len(), 1);
    assert_eq!(p.media[0].url, "https://www.site.example/base/big.jpg");
    assert_eq!(p.media[0].alt.as_deref(), Some("Big"));
    assert_eq!(p.extra["lang"], "de");
    assert_eq!(p.extra["description"], "Desc");
}

#[test]
fn non_html_responses() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let p = post_of(
        "https://img.example/photos/cat%20one.png?s=1",
        Some("image/png"),
        png.clone(),
    );
    assert_eq!(p.title.as_deref(), Some("cat one.png"));
    assert_eq!(p.media.len(), 1);
    assert_eq!(
        p.media[0].url,
        "https://img.example/photos/cat%20one.png?s=1"
    );
    assert_eq!(p.media[0].kind, MediaKind::Image);
    assert_eq!(p.text, None);
    // No Content-Type: sniffed.
    let p = post_of("https://img.example/x", None, png);
    assert_eq!(p.media.len(), 1);
    let p = post_of(
        "https://docs.example/papers/report.pdf",
        Some("application/pdf"),
        b"%PDF-1.7\n...".to_vec(),
    );
    assert_eq!(p.title.as_deref(), Some("report.pdf"));
    assert!(p.media.is_empty());
    let p = post_of(
        "https://api.example/v1/items.json",
        Some("application/json"),
        b"{\"a\":1}".to_vec(),
    );
    assert_eq!(p.title.as_deref(), Some("items.json"));
    assert!(p.media.is_empty() && p.html.is_none());
    let p = post_of(
        "https://t.example/readme.txt",
        Some("text/plain; charset=utf-8"),
        b"<html>not html</html>".to_vec(),
    );
    assert_eq!(p.title.as_deref(), Some("readme.txt"));
}

#[test]
fn hostile_pages_do_not_panic_or_blow_up() {
    // Deep nesting, unclosed tags, a huge attribute, garbage bytes.
    let mut deep = String::from("<html><body>");
    for _ in 0..1_500 {
        deep.push_str("<div><span>");
    }
    deep.push_str("<p>deep text that is long enough to be a paragraph in the page</p>");
    let p = post_of(
        "https://x.example/deep",
        Some("text/html"),
        deep.into_bytes(),
    );
    assert!(p.text.unwrap_or_default().contains("deep text"));
    let mut junk: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    junk.splice(
        0..0,
        b"<html><head><meta charset=x-user-defined>".iter().copied(),
    );
    let p = post_of("https://x.example/junk", Some("text/html"), junk);
    // Garbage is still a page: read in the charset it declares (WHATWG maps a `<meta>`
    // x-user-defined to windows-1252, which decodes every byte), its text and HTML kept
    // within the bounds, nothing invented.
    assert_eq!(p.url, "https://x.example/junk");
    assert_eq!(p.platform, "web");
    assert_eq!(
        p.extra["charset"],
        serde_json::json!({"name": "windows-1252", "source": "meta", "had_errors": false})
    );
    assert_eq!(p.title, None);
    let text = p.text.as_deref().unwrap_or_default();
    assert!(
        text.len() > 100_000 && text.len() <= samizdat::extract::MAX_TEXT,
        "{}",
        text.len()
    );
    let html = p.html.as_deref().unwrap_or_default();
    assert!(!html.is_empty() && html.len() <= samizdat::extract::MAX_HTML);
    assert!(!html.contains("<script"), "sanitised");
    assert!(p.media.is_empty(), "{:?}", p.media);
    assert_eq!(p.extra["jsonld"], serde_json::json!([]));
    assert_eq!(p.extra["opengraph"], serde_json::json!({}));
    // An empty page: a post with its identity and nothing else.
    let p = post_of("https://x.example/empty", Some("text/html"), vec![]);
    let url = Url::parse("https://x.example/empty").unwrap();
    assert_eq!(
        p.id.0,
        format!("web:{}", samizdat::platforms::web::platform_id(&url))
    );
    assert_eq!(p.url, "https://x.example/empty");
    assert_eq!((&p.title, &p.text, &p.html), (&None, &None, &None));
    assert!(p.media.is_empty() && p.author.is_none() && p.created_at.is_none());
    assert_eq!(
        Value::Object(p.extra),
        serde_json::json!({
            "opengraph": {}, "twitter": {}, "jsonld": [],
            "charset": {"name": "UTF-8", "source": "default", "had_errors": false}
        })
    );
}

/// A page of `bytes` bytes of ordinary paragraphs, links and images in one article.
fn big_page(bytes: usize) -> Vec<u8> {
    let para = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p><div class=\"x\"><a href=\"/l\">link</a><img src=\"/i.jpg\"></div>\n";
    let n = bytes / para.len();
    format!(
        "<html><head><title>Big</title></head><body><article>{}</article></body></html>",
        para.repeat(n)
    )
    .into_bytes()
}

/// The fastest of `runs` extractions of a `bytes`-byte page (the minimum is what the
/// code costs; anything above it is the machine's noise).
fn fastest(bytes: usize, runs: usize) -> std::time::Duration {
    (0..runs)
        .map(|_| {
            let page = big_page(bytes);
            let t = std::time::Instant::now();
            let p = post_of("https://x.example/big", Some("text/html"), page);
            let took = t.elapsed();
            assert_eq!(p.title.as_deref(), Some("Big"));
            assert!(p.media.len() <= 20);
            took
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn large_page_is_linear() {
    const MB: usize = 1024 * 1024;
    let small = fastest(MB, 3);
    let large = fastest(4 * MB, 2);
    // Debug build on a shared machine: generous, but a quadratic step would take minutes.
    assert!(large.as_secs() < 60, "4 MB page took {large:?}");
    // Four times the page: about four times the time when linear, sixteen when
    // quadratic. The bound sits well below quadratic and well above linear's noise.
    let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-6);
    assert!(
        ratio < 9.0,
        "4 MB took {large:?}, 1 MB {small:?}: {ratio:.1}x for 4x the page (quadratic growth?)"
    );
}
