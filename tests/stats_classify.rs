//! Known user agents land in the right class, and real browsers are human.

use forkblog::stats::classify::classify_agent;
use forkblog::stats::Class;

/// Real user agents, as their operators document them or as seen in access logs.
const BOTS: &[(&str, Class, &str)] = &[
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", Class::Search, "Googlebot"),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/131.0.6778.204 Safari/537.36", Class::Search, "Googlebot"),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", Class::Search, "bingbot"),
    ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", Class::Search, "YandexBot"),
    ("DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", Class::Search, "DuckDuckBot"),
    ("Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", Class::Search, "Baiduspider"),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", Class::Ai, "GPTBot"),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot", Class::Ai, "ChatGPT-User"),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", Class::Ai, "ClaudeBot"),
    ("CCBot/2.0 (https://commoncrawl.org/faq/)", Class::Ai, "CCBot"),
    ("Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)", Class::Ai, "Bytespider"),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)", Class::Ai, "PerplexityBot"),
    ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", Class::Social, "facebook"),
    ("Twitterbot/1.0", Class::Social, "Twitterbot"),
    ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", Class::Social, "Slackbot"),
    ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", Class::Social, "Discordbot"),
    ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers; like FeedFetcher-Google)", Class::Feed, "Feedly"),
    ("Miniflux/2.2.3 (https://miniflux.app)", Class::Feed, "Miniflux"),
    ("Tiny Tiny RSS/23.04 (https://tt-rss.org/)", Class::Feed, "Tiny Tiny RSS"),
    ("Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", Class::Monitor, "UptimeRobot"),
    ("Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", Class::Monitor, "Pingdom"),
    ("Mozilla/5.0 (compatible; Nuclei - Open-source project (github.com/projectdiscovery/nuclei))", Class::Scanner, "Nuclei"),
    ("sqlmap/1.8#stable (https://sqlmap.org)", Class::Scanner, "sqlmap"),
    ("Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)", Class::Scanner, "Nikto"),
    ("curl/8.5.0", Class::OtherBot, "curl"),
    ("python-requests/2.32.3", Class::OtherBot, "python-requests"),
    ("Go-http-client/1.1", Class::OtherBot, "Go-http-client"),
    ("Wget/1.21.4", Class::OtherBot, "Wget"),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", Class::OtherBot, "AhrefsBot"),
];

/// Current desktop and mobile browsers on several systems.
const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Mobile Safari/537.36 (Ecosia android@150.0.0.0)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/116.0.0.0",
];

#[test]
fn bots_land_in_their_class_with_a_stable_name() {
    assert_classified(BOTS);
}

/// Every agent lands in its class under its name; all the wrong ones are listed at once.
fn assert_classified(cases: &[(&str, Class, &str)]) {
    let mut wrong = Vec::new();
    for &(ua, class, name) in cases {
        let agent = classify_agent(ua);
        if agent.class != class || agent.name.as_deref() != Some(name) {
            wrong.push(format!(
                "{ua}\n  want {class:?} {name:?}, got {:?} {:?}",
                agent.class, agent.name
            ));
        }
    }
    assert!(wrong.is_empty(), "misclassified:\n{}", wrong.join("\n"));
}

#[test]
fn browsers_are_human() {
    for ua in BROWSERS {
        let agent = classify_agent(ua);
        assert_eq!(agent.class, Class::Human, "{ua} -> {:?}", agent.name);
        assert_eq!(agent.name, None);
    }
}

/// People's agents that name no usual browser, or hold a word that looks like a bot's.
const PEOPLE: &[&str] = &[
    // Phones whose model name holds `bot`, in upper and lower case.
    "Mozilla/5.0 (Linux; Android 7.0; CUBOT KING KONG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/71.0.3578.99 Mobile Safari/537.36",
    "mozilla/5.0 (linux; android 6.0; cubot echo) applewebkit/537.36 (khtml, like gecko) chrome/70.0.3538.80 mobile safari/537.36",
    "Mozilla/5.0 (Linux; U; Android 4.2.2; es-es; CUBOT GT72E Build/JDQ39) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
    // Office and Outlook following a link a person clicked.
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.4266; Pro)",
    "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
    "Microsoft Office Word 2014",
    // Apps, WebViews, feature phones, TVs, players, old systems.
    "Dalvik/2.1.0 (Linux; U; Android 11; SM-A325N Build/RP1A.200720.012)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.29.149 Chrome/108.0.5359.179 Electron/22.0.0 Safari/537.36 Sonic Slack_SSB/4.29.149",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Code/1.85.0 Chrome/114.0.5735.289 Electron/25.9.7 Safari/537.36",
    "UCWEB/2.0 (Java; U; MIDP-2.0; Nokia203/20.37) U2/1.0.0 UCBrowser/8.7.0.218 U2/1.0.0 Mobile",
    "Nokia2730c-1/2.0 (10.45) Profile/MIDP-2.1 Configuration/CLDC-1.1",
    "Linux UPnP/1.0 Sonos/63.2-88230 (ZPS9)",
    "AmigaVoyager/3.2 (AmigaOS/MC680x0)",
    "IBrowse/2.4 (AmigaOS 3.9; 68K)",
    "WhatsApp/2.17.427 Android/7.0 Device/motorola-Moto_C_Plus",
    "Mozilla/5.0 (Linux; Android 10; SM-N960N Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/81.0.4044.117 Mobile Safari/537.36 DaumApps/6.9.13",
    "Mozilla/5.0 (Linux; U; Android 4.3; en-US; ViewSonic A8+ Build/JLS36C) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 UCBrowser/11.0.5.892 U3/0.8.0 Mobile Safari/534.30",
];

/// Bots written in lower case, attack strings sent as the agent, and names inside longer words.
const ODD_BOTS: &[(&str, Class, &str)] = &[
    (
        "mediapartners-google",
        Class::OtherBot,
        "Mediapartners-Google",
    ),
    ("site24x7", Class::Monitor, "Site24x7"),
    ("datadogsynthetics", Class::Monitor, "datadogsynthetics"),
    (
        "'+(select load_file('\\\\x.burpcollaborator.net\\a'))+'",
        Class::Scanner,
        "select",
    ),
    (
        "Mozilla/5.0 (compatible; Alexabot/1.0)",
        Class::OtherBot,
        "Alexabot",
    ),
    (
        "Mozilla/5.0 (compatible; Dazoobot/1.0; +http://dazoo.example)",
        Class::OtherBot,
        "Dazoobot",
    ),
    (
        "Mozilla/5.0 (compatible; RankSonicSiteAuditor/1.0; +https://ranksonic.com/)",
        Class::OtherBot,
        "RankSonicSiteAuditor",
    ),
];

/// Bots from the list of misses, and browser-shaped agents whose only tell is a noun for
/// a tool's job: each is a bot named by its own token, not by the platform before it.
const BROWSER_SHAPED_BOTS: &[(&str, Class, &str)] = &[
    (
        "Mozilla/5.0 (Linux; Android 4.4.2; Nexus 4 Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/34.0.1847.114 Mobile Safari/537.36 googleweblight",
        Class::OtherBot,
        "googleweblight",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 pageburst",
        Class::OtherBot,
        "pageburst",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) TagInspector/500.1 Chrome/90.0.4430.72 Safari/537.36",
        Class::OtherBot,
        "TagInspector",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 SyntheticsAgent",
        Class::Monitor,
        "SyntheticsAgent",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 CybaaAgent",
        Class::OtherBot,
        "CybaaAgent",
    ),
    (
        "Darwin/24.5.0 (Watch7,8; watchOS 11.4) MatomoTrackerSDK/7.7.0",
        Class::OtherBot,
        "MatomoTrackerSDK",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 ELB-HealthChecker/2.0",
        Class::Monitor,
        "ELB-HealthChecker",
    ),
    ("x.burpcollaborator.net", Class::Scanner, "x.burpcollaborator.net"),
    (
        "Cursor/1.0 (Macintosh; Intel Mac OS X 10_15_7)",
        Class::Ai,
        "Cursor",
    ),
];

#[test]
fn browser_shaped_bots_are_found_by_their_own_name() {
    assert_classified(BROWSER_SHAPED_BOTS);
}

#[test]
fn a_pasted_user_agent_header_is_not_an_agent_word() {
    let ua = "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
    assert_eq!(classify_agent(ua).class, Class::Human);
}

#[test]
fn people_behind_odd_agents_are_human() {
    let wrong: Vec<String> = PEOPLE
        .iter()
        .map(|ua| (ua, classify_agent(ua)))
        .filter(|(_, agent)| agent.class != Class::Human)
        .map(|(ua, agent)| format!("{ua} -> {:?} {:?}", agent.class, agent.name))
        .collect();
    assert!(wrong.is_empty(), "taken for bots:\n{}", wrong.join("\n"));
}

#[test]
fn odd_bots_are_found_and_named() {
    let mut wrong = Vec::new();
    for &(ua, class, name) in ODD_BOTS {
        let agent = classify_agent(ua);
        if !agent.class.is_bot() || agent.name.as_deref() != Some(name) || agent.class != class {
            wrong.push(format!(
                "{ua}\n  want {class:?} {name:?}, got {:?} {:?}",
                agent.class, agent.name
            ));
        }
    }
    assert!(wrong.is_empty(), "misclassified:\n{}", wrong.join("\n"));
}

#[test]
fn empty_agents_are_unknown() {
    for ua in ["", "-", "  "] {
        assert_eq!(classify_agent(ua).class, Class::Unknown, "{ua:?}");
    }
}

/// Every agent an issue quoted as misread on corpora never used for tuning: people's apps,
/// WebViews and mail clients are people; monitors, tools and fetchers that announce themselves
/// are bots, each named by its own product token.
const UNSEEN: &[(&str, Class, Option<&str>)] = &[
    ("Mozilla/5.0 (Linux; Android 12; moto g(50) 5G Build/S1RSS32.38-20-9-13; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.179 Mobile Safari/537.36", Class::Human, None),
    ("Mozilla/5.0 (Linux; Android 12; moto g(50) 5G Build/S1RSS32.38-20-9-13) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", Class::Human, None),
    ("Outlook-iOS/709.2189947.prod.iphone (3.24.0)", Class::Human, None),
    ("Outlook-iOS/696.1188109.prod.iphone (2.102.0)", Class::Human, None),
    ("Outlook-Express/7.0 (MSIE 7.0; Windows NT 6.1; WOW64; Trident/7.0; .NET4.0C; .NET4.0E; TmstmpExt)", Class::Human, None),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/127.0.6533.103 Mobile Safari/537.36 GoogleApp/14.35.27.29.arm64", Class::Human, None),
    ("GOGGalaxyClient/2.0.20.39 (GOG Galaxy) 83b6745cff679691b69876bc7ee33e05e5d90bda (win10 x64)", Class::Human, None),
    ("MozacFetch/49.0.20200702190156", Class::Human, None),
    ("Mozilla/5.0 (Linux; Android 15; SM-S918W Build/AP3A.240905.015.A2; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/139.0.7258.158 Mobile Safari/537.36 genspark_flutter genspark_android PushAppearanceStyle", Class::Human, None),
    ("Mozilla/5.0 (Linux; Android 11; M2101K7AG Build/RKQ1.201022.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 CamScanner/6.56.0.2312040000", Class::Human, None),
    ("ELinks/0.12pre6 (textmode; Linux; -)", Class::Human, None),
    ("ELinks (0.4.3; NetBSD 3.0.2_PATCH sparc64; 80x24)", Class::Human, None),
    ("Mozilla/5.0 (Windows NT 6.3; WOW64; Trident/7.0; rv:11.0; Catchpoint) like Gecko", Class::Monitor, Some("Catchpoint")),
    ("Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0.4103.97 Safari/537.36 (Dotcom-Monitor)", Class::Monitor, Some("Dotcom-Monitor")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:91.0) Gecko/20100101 Firefox/91.0 DejaClick/2.9.1.0", Class::Monitor, Some("DejaClick")),
    ("ClamAV/0.103.8 (OS: linux-gnu, ARCH: x86_64, CPU: x86_64)", Class::OtherBot, Some("ClamAV")),
    ("grpc-node/1.24.2 grpc-c/8.0.0 (linux; chttp2; ganges)", Class::OtherBot, Some("grpc-node")),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64; rv:27.0) Gecko/20100101 Firefox/27.0 FirePHP/0.7.4", Class::OtherBot, Some("FirePHP")),
    ("iGetter/2 (Macintosh; U; PPC Mac OS X; en)", Class::OtherBot, Some("iGetter")),
    ("WhatsApp", Class::Social, Some("WhatsApp")),
    ("WhatsApp/2.23.20.0 A", Class::Social, Some("WhatsApp")),
    ("Viber", Class::Social, Some("Viber")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 GoogleMessages/15.1", Class::Social, Some("GoogleMessages")),
    ("swcd (unknown version) CFNetwork/1125.2 Darwin/19.4.0", Class::OtherBot, Some("swcd")),
    ("Downcast/2.9.11 (iPhone; iOS 9.2; Scale/2.00)", Class::Feed, Some("Downcast")),
    ("Mozilla/5.0 (Mixnode) AppleWebKit/537.36 (KHTML, like Gecko)", Class::OtherBot, Some("Mixnode")),
    ("Mozilla/5.0 (watchTowr; Windows NT 10.0; Win64; x64; rv:84.0) Gecko/20100101 Firefox/84.0", Class::Scanner, Some("watchTowr")),
    ("Mozilla/5.0 (compatible; BackupLand/1.0; https://go.backupland.com/; Domain check for viruses;)", Class::Monitor, Some("BackupLand")),
    ("LiveJournal.com (webmaster@livejournal.com; for https://www.livejournal.com/users/example/; 1 readers)", Class::Feed, Some("LiveJournal.com")),
    ("Mozilla/5.0 (compatible; MSIE or Firefox mutant; not on Windows server; +http://ws.daum.net/aboutWebSearch.html) Daumoa/3.0", Class::Search, Some("Daumoa")),
    ("Digg Feed Fetcher 1.0 (Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_1) AppleWebKit/534.48.3 (KHTML, like Gecko) Version/5.1 Safari/534.48.3)", Class::Feed, Some("Digg Feed Fetcher")),
    ("eZ Publish Link Validator", Class::OtherBot, Some("eZ Publish Link Validator")),
];

#[test]
fn agents_misread_on_unseen_corpora_are_classified_and_named() {
    let mut wrong = Vec::new();
    for &(ua, class, name) in UNSEEN {
        let agent = classify_agent(ua);
        if agent.class != class || agent.name.as_deref() != name {
            wrong.push(format!(
                "{ua}\n  want {class:?} {name:?}, got {:?} {:?}",
                agent.class, agent.name
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} misread:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
