//! Main-content selection on small fixture pages of different kinds.

use ace_extractors::{extract, Input, Options, OutputFormat};

fn text(page: &str) -> String {
    extracted(page, OutputFormat::Text).text.unwrap()
}

fn markdown(page: &str) -> String {
    extracted(page, OutputFormat::Markdown).markdown.unwrap()
}

fn extracted(page: &str, format: OutputFormat) -> ace_extractors::Extracted {
    let opts = Options { formats: vec![format], ..Options::default() };
    extract(
        &Input {
            bytes: page.as_bytes(),
            content_type: None,
            base_url: Some("https://example.com/x"),
        },
        &opts,
    )
    .unwrap()
}

fn assert_has(t: &str, wanted: &[&str], unwanted: &[&str]) {
    for w in wanted {
        assert!(t.contains(w), "missing {w:?} in:\n{t}");
    }
    for u in unwanted {
        assert!(!t.contains(u), "boilerplate {u:?} leaked into:\n{t}");
    }
}

#[test]
fn article_without_its_chrome() {
    let t = text(include_str!("fixtures/article.html"));
    assert_has(
        &t,
        &["six hours of direct sun", "twenty litres", "Watering", "Feed every two weeks"],
        &[
            "cookies",
            "Kitchen",
            "Related posts",
            "Peppers in pots",
            "Facebook",
            "Great tips",
            "Composting",
            "newsletter",
            "All rights reserved",
            "Home ›",
        ],
    );
    assert!(!t.starts_with("Growing Tomatoes") || t.contains("six hours"), "{t}");
}

#[test]
fn forum_thread_keeps_every_post() {
    let t = text(include_str!("fixtures/forum.html"));
    assert_has(
        &t,
        &["chain slips under load", "worn cassette slips", "cassette was worn out"],
        &["Log in", "Tubeless setup", "Powered by Discourse"],
    );
}

#[test]
fn product_page_keeps_title_description_and_specs() {
    let t = text(include_str!("fixtures/product.html"));
    assert_has(
        &t,
        &["Walnut Desk Lamp", "dimmable LED", "45 cm", "8 W LED"],
        &["Free shipping", "Cart (0)", "Oak floor lamp", "10% off", "cable could be"],
    );
}

#[test]
fn markdown_of_the_article_is_structured() {
    let opts = Options {
        formats: vec![
            OutputFormat::Markdown,
            OutputFormat::Images,
            OutputFormat::Links,
            OutputFormat::Tables,
        ],
        ..Options::default()
    };
    let page = include_str!("fixtures/product.html");
    let out = extract(
        &Input {
            bytes: page.as_bytes(),
            content_type: None,
            base_url: Some("https://shop.example.com/p/lamp"),
        },
        &opts,
    )
    .unwrap();
    let md = out.markdown.unwrap();
    assert!(md.contains("# Walnut Desk Lamp"), "{md}");
    assert!(md.contains("| Height | 45 cm |"), "{md}");
    let images = out.images.unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].src, "https://shop.example.com/img/lamp.jpg");
    assert_eq!(
        out.tables.unwrap()[0].rows,
        vec![vec!["Height".to_string(), "45 cm".into()], vec!["Power".into(), "8 W LED".into()]]
    );
    let links = out.links.unwrap();
    assert!(links.iter().any(|l| l.url == "https://shop.example.com/p/1"
        && l.internal
        && l.text == "Oak floor lamp"));
}

#[test]
fn article_tail_loses_related_heading_and_surroundings() {
    let t = text(include_str!("fixtures/article_tail.html"));
    assert_has(
        &t,
        &["worn washer", "Replacing the washer", "turn the water back on slowly"],
        // The heading of a dropped link list; teasers next to the article; a sidebar whose
        // archive links outweigh the short article; a comment form; a caption and a credit.
        &[
            "flattened by years",
            "A. Plumber",
            "You might also like",
            "Bleeding radiators",
            "restored an old bathroom",
            "written by volunteers",
            "archive",
            "Leave a reply",
            "not be published",
        ],
    );
}

#[test]
fn forum_posts_in_forms_stay() {
    // Some forum software wraps every post in its own form; on a discussion page that is content.
    let post = |n: u32, words: &str| {
        format!("<div class='comment' id='c{n}'><form class='usertext'><input type='hidden' name='id' value='{n}'><div class='md'><p>{words}</p></div></form></div>")
    };
    let page = format!(
        "<html><body><div class='commentarea'><h1>Which tyre pressure for gravel?</h1>{}{}{}</div></body></html>",
        post(1, "I run about two bar on 40 mm tyres, which feels right on loose gravel and still rolls well on tarmac."),
        post(2, "Lower than you think: try one and a half bar, then go up a little until the rim stops hitting rocks."),
        post(3, "Thanks both, I dropped to one point eight and the ride is much calmer on the washboard sections."),
    );
    let t = text(&page);
    assert_has(&t, &["two bar on 40 mm", "one and a half bar", "washboard sections"], &[]);
}

#[test]
fn listing_keeps_every_item_around_the_one_with_a_description() {
    // The best block is the one item with prose; the root widens to the list, which must not
    // then be pruned like an article's surroundings.
    let t = text(include_str!("fixtures/listing.html"));
    assert_has(
        &t,
        &[
            "Senior Rust Engineer",
            "Ferrous Tools",
            "Platform Engineer",
            "Kernel Works",
            "compiler for a small",
        ],
        &["Post a job", "Terms"],
    );
}

#[test]
fn collapsed_accordion_prose_is_content_but_hidden_menus_are_not() {
    let answer = |q: &str, a: &str| {
        format!("<li class='accordion-item'><h3>{q}</h3><div class='accordion-item__panel' hidden><p>{a}</p></div></li>")
    };
    let page = format!(
        "<html><body><div class='mobile-menu' aria-hidden='true'><a href='/'>Home</a> <a href='/pricing'>Pricing</a> <a href='/faq'>FAQ</a></div>\
         <main><h1>Window cleaning, questions and answers</h1><p>Everything you wanted to know about our service, from booking to payment.</p>\
         <ul class='accordion'>{}{}</ul>\
         <div class='WidgetWrapper_WidgetWrapper__x1'><p>We clean windows on every floor, inside and out, using purified water that dries without streaks or spots.</p></div>\
         <pre hidden>## Raw copy of this page\n\nWe clean windows on every floor, inside and out, using purified water that dries without streaks or spots, and this copy repeats it all in Markdown so that machines can read the page without its layout.</pre></main></body></html>",
        answer("How often should windows be cleaned?", "Every eight weeks keeps most homes looking bright; homes near busy roads or the sea, where dust and salt settle quickly on the glass, may want a visit every four weeks instead, and shop fronts often book us every fortnight."),
        answer("Do I need to be at home?", "No. We only need access to the garden and a tap for the water, and we leave a note with the invoice and the date of the next visit when we are done for the day, so there is nothing for you to arrange."),
    );
    let t = text(&page);
    assert_has(
        &t,
        &["Every eight weeks", "leave a note with the invoice", "purified water"],
        &["Pricing", "Raw copy"],
    );
}

#[test]
fn a_thread_under_a_big_header_is_still_a_discussion() {
    // The header's mega-menu outweighs the thread in raw text; page chrome by tag does not
    // count when deciding whether comments hold most of the page.
    let menu: String = (0..60)
        .map(|i| format!("<li><a href='/c/{i}'>Category number {i} of the forum</a></li>"))
        .collect();
    let reply =
        |n: u32, words: &str| format!("<div class='comment' id='comment-{n}'><p>{words}</p></div>");
    let page = format!(
        "<html><body><header><nav><ul>{menu}</ul></nav></header><main><h1>Best budget tent?</h1>\
         <p>Looking for a two-person tent under 200 for summer trips.</p><section class='comments'>{}{}{}</section></main></body></html>",
        reply(1, "I have used the same dome tent for five summers now, it survived storms in the hills and still packs small."),
        reply(2, "Check the weight before anything else: a kilo saved on the tent is a kilo you do not carry up every climb."),
        reply(3, "Tunnel tents give more room for the money, but they need good pegs and some practice when the wind picks up."),
    );
    let t = text(&page);
    assert_has(
        &t,
        &["Best budget tent", "five summers", "a kilo saved", "Tunnel tents"],
        &["Category number"],
    );
}

#[test]
fn plain_prose_outweighs_a_menu_like_name() {
    let page = "<html><body><main><h1>Opening hours and access</h1><p>We are open every day of the year.</p>\
        <p>The collection covers four centuries of local crafts, from hand-woven cloth and carved furniture to the \
        printing presses that produced the town's first newspaper, and every room has a guide who is happy to explain.</p>\
        <p>Tickets can be bought at the door or online; children under twelve go free, and a family ticket covers \
        two adults with up to three children, which is the cheapest way to visit for most households in the area.</p>\
        <p>Guided tours start every hour from the main hall and last about forty minutes; they are included in the \
        ticket, and on the first Sunday of each month the tour is given in sign language by one of our volunteers.</p>\
        <p>School groups are welcome on weekday mornings, when the workshop rooms are reserved for them, and teachers \
        can borrow activity boxes with costumes, replica tools and worksheets for pupils of every age and ability.</p>\
        <div class='faq-dropdown'><p>The museum opens at nine in the morning and closes at six in the evening, \
        with late opening until nine on Thursdays. The last admission is one hour before closing time. \
        Wheelchair users can enter through the garden gate on the east side, where a ramp leads to the lift, \
        and assistance dogs are welcome in every gallery, including the temporary exhibitions upstairs. \
        Large bags and umbrellas go in the free lockers by the entrance, and the cafe on the ground floor serves \
        lunch from noon until three, with a quiet room next to it for anyone who needs a break from the crowds. \
        Photography without flash is allowed everywhere except in the manuscript room, where the light is kept low.</p></div></main></body></html>";
    let t = text(page);
    assert_has(&t, &["closes at six", "assistance dogs are welcome"], &[]);
}

#[test]
fn a_footer_with_long_legal_text_is_chrome_when_the_page_has_a_main() {
    let terms: String = (0..12)
        .map(|i| format!("<p>Clause {i}. The customer agrees that all orders are subject to availability, and that the shop may cancel an order, with a full refund, when an item turns out to be out of stock.</p>"))
        .collect();
    let page = format!(
        "<html><body><main><h1>Running shoes</h1><ul class='grid'><li><a href='/p/1'>Trail runner, blue</a> 89.00</li>\
         <li><a href='/p/2'>Road racer, white</a> 120.00</li><li><a href='/p/3'>Winter trainer, black</a> 99.00</li></ul>\
         <p>Light, cushioned shoes for every surface, tested by our own running club before they reach the shop.</p></main>\
         <footer><div class='terms'>{terms}</div></footer></body></html>"
    );
    let t = text(&page);
    assert_has(&t, &["tested by our own running club"], &["Clause 3"]);
}

#[test]
fn a_grid_of_story_cards_under_an_article_goes() {
    let para = "<p>The bridge reopened on Monday after eight months of repairs, and the first buses crossed it at six in the morning, \
        to applause from a small crowd of neighbours who had waited through the winter for the detour to end.</p>";
    let card = |n: u32, title: &str| {
        format!("<div class='card'><h3><a href='/news/{n}'>{title}</a></h3><p>Two minutes to read.</p></div>")
    };
    let page = format!(
        "<html><body><main><article><h1>Bridge reopens</h1>{para}{para}{para}</article>\
         <div class='more'>{}{}{}{}</div></main></body></html>",
        card(1, "Council approves the new cycle lanes along the river"),
        card(2, "Library extends its opening hours for the exam season"),
        card(3, "Local bakery wins the regional prize for its rye bread"),
        card(4, "Volunteers plant two hundred trees in the eastern park"),
    );
    let t = text(&page);
    assert_has(&t, &["bridge reopened on Monday"], &["cycle lanes", "rye bread", "Two minutes"]);
}

#[test]
fn highlighted_code_keeps_its_comments() {
    let page = "<html><body><article><h1>Rotating logs</h1><p>Add this to the crontab of the user that owns the logs, \
        so that old files are compressed every night and removed after a month, which keeps the disk from filling up.</p>\
        <pre><code class='language-bash hljs'><span class='hljs-comment'># compress logs older than a day</span>\n\
        find /var/log/app -name '*.log' -mtime +1 -exec gzip {} \\;</code></pre></article></body></html>";
    let t = text(page);
    assert_has(&t, &["compress logs older than a day", "-mtime +1"], &[]);
}

#[test]
fn promoted_articles_and_aria_hidden_text_are_content() {
    // "node--promoted" is a CMS flag, not a promo box; aria-hidden hides from screen readers
    // only, so what it marks is still visible text.
    let page = "<html><body><div class='layout'><article class='node node--type-service node--promoted'>\
        <h1>Flu vaccination</h1><p>Flu vaccines are free for adults over sixty-five, pregnant women and children \
        from two years old, and can be booked at any of our clinics or at your local pharmacy.</p>\
        <p>Bring your health card and a list of any medicines you take; the appointment takes about ten minutes, \
        and you can go home straight after it unless the nurse asks you to wait.</p>\
        <p class='desc'><span aria-hidden='true'>Opening hours of every clinic in the city and how to reach them by bus.</span></p>\
        </article><div class='promo-box'><p>Download our app for 10% off.</p></div></div></body></html>";
    let t = text(page);
    assert_has(
        &t,
        &["Flu vaccines are free", "about ten minutes", "how to reach them by bus"],
        &["Download our app"],
    );
}

#[test]
fn headers_of_sections_inside_main_are_content() {
    let card = |title: &str, body: &str| {
        format!("<li><header><h3>{title}</h3><p>{body}</p></header></li>")
    };
    let page = format!(
        "<html><body><header class='site'><nav><a href='/'>Home</a> <a href='/shop'>Shop</a></nav></header>\
         <main><h1>Our services</h1><p>From the first sketch to the final coat of paint, one team handles your renovation.</p><ul>{}{}{}</ul></main></body></html>",
        card("Kitchens", "Custom cabinets, worktops and fitting, planned with you in a free visit to your home."),
        card("Bathrooms", "Walk-in showers, tiling and underfloor heating, finished within two weeks of the start."),
        card("Extensions", "Planning permission, foundations and roofing, handled by one site manager from start to end."),
    );
    let t = text(&page);
    assert_has(&t, &["Custom cabinets", "Walk-in showers", "Planning permission"], &["Shop"]);
}

#[test]
fn plain_text_leaves_an_articles_headline_to_the_metadata() {
    let page = "<html><head><title>Bridge reopens</title></head><body><main><article><h1>Bridge reopens after repairs</h1>\
        <p>The bridge reopened on Monday after eight months of repairs, and the first buses crossed it at six in the morning, \
        to applause from a small crowd of neighbours who had waited through the winter for the detour to end.</p>\
        <h2>What changed</h2><p>The deck was rebuilt with a wider footpath, a protected cycle lane and new lighting, \
        paid for by the city and the regional transport fund, which shared the cost equally between them.</p></article></main></body></html>";
    let t = text(page);
    assert!(!t.contains("Bridge reopens after repairs"), "{t}");
    assert_has(&t, &["bridge reopened on Monday", "What changed"], &[]);
    let opts = Options { formats: vec![OutputFormat::Markdown], ..Options::default() };
    let md = extract(&Input { bytes: page.as_bytes(), content_type: None, base_url: None }, &opts)
        .unwrap()
        .markdown
        .unwrap();
    assert!(md.contains("# Bridge reopens after repairs"), "{md}");
}

#[test]
fn a_related_box_of_article_cards_is_not_the_main_content() {
    // Teaser cards marked up as `article` do not make their box the page's main content: only
    // a box holding the page's `main`, or an article at least half as long as its longest, is
    // protected from its name.
    let para =
        "<p>The night train to the coast runs again from Friday, after the operator found a new \
        supplier for its sleeper cars, and tickets for the first month sold out within a day.</p>";
    let card = |title: &str| {
        format!("<article class='card'><h3><a href='/t'>{title}</a></h3><p>Passengers tell us what \
         they liked about the trip, what they missed, and whether they would book the journey again.</p></article>")
    };
    let page = format!(
        "<html><body><div class='page'><article class='post'><h1>Night train returns</h1>{para}{para}{para}\
         <div class='related-posts'><h2>You may also like</h2>{}{}</div></article></div></body></html>",
        card("Ten years of the mountain railway"),
        card("How the ferry timetable changes in winter"),
    );
    let t = text(&page);
    assert_has(
        &t,
        &["night train to the coast"],
        &["You may also like", "mountain railway", "would book the journey"],
    );
}

#[test]
fn short_lines_after_the_article_body_go_but_its_own_closing_lines_and_lists_stay() {
    // Under the article, after the container holding its paragraphs, come lines with no prose
    // and no class to tell what they are: they are the page's, not the article's. The body's
    // own short closing line, and a plain list after the body, are the article's.
    let para =
        "<p>The orchard planted forty new apple trees this spring, old local varieties that \
        had almost disappeared, and the first blossoms came out in the second week of April.</p>";
    let page = format!(
        "<html><body><div class='page'><article><h1>Old apples return</h1>\
         <div class='body'>{para}{para}{para}<p>See you at the harvest!</p></div>\
         <ul><li>Planted: 40 trees</li><li>Varieties: 12</li></ul>\
         <div class='line'>Filed under <a href='/t/1'>Gardens</a>, <a href='/t/2'>Apples</a></div>\
         <div class='box'><h4>Get the weekly digest</h4><p>Every Friday in your inbox.</p></div>\
         <div class='row'><a href='/a'>Previous story</a> <a href='/b'>Next story</a></div>\
         </article></div></body></html>"
    );
    let t = text(&page);
    assert_has(
        &t,
        &["forty new apple trees", "See you at the harvest!", "Varieties: 12"],
        &["Filed under", "weekly digest", "Every Friday", "Next story"],
    );
}

#[test]
fn sharing_reading_time_donation_and_post_metadata_boxes_go_by_name() {
    let para = "<p>The town library now lends tools as well as books: drills, ladders and sewing \
        machines can be borrowed for a week with the same card, and the list grows every month.</p>";
    let page = format!(
        "<html><body><article><h1>Borrow a drill</h1><div class='reading-time'>4 min read</div>\
         <div class='postmetadata'>Posted on 3 May in Town news</div>{para}\
         <div class='heateor_sharing_title'>Pass this story on</div>{para}\
         <div class='news-letter-section'><p>Our letter comes out on Sundays, with every story of the week and the events ahead.</p></div>\
         {para}<div class='donation-box'><p>We rely on readers like you to keep reporting on the town, every week of the year.</p></div>\
         <div class='product-upsell'>Members read without limits</div>{para}</article></body></html>"
    );
    let t = text(&page);
    assert_has(
        &t,
        &["lends tools as well as books"],
        &[
            "4 min read",
            "Posted on 3 May",
            "Pass this story on",
            "comes out on Sundays",
            "rely on readers",
            "without limits",
        ],
    );
}

#[test]
fn a_dateline_goes_but_a_date_in_a_sentence_or_a_list_stays() {
    let para =
        "<p>The ferry to the island will run every hour from June, the harbour office said, \
        after a second boat joined the service and the new pier opened on the northern side.</p>";
    let page = format!(
        "<html><body><article><h1>More ferries</h1><div class='x'>Updated <time datetime='2024-05-02'>2 May 2024</time></div>\
         {para}<p>The first hourly crossing leaves on <time datetime='2024-06-01'>1 June</time>, at seven in the morning, from the old quay.</p>{para}\
         <ul><li><time datetime='2024-06-01'>1 June</time>: first hourly crossing</li><li>Late boats on Fridays</li></ul>{para}</article></body></html>"
    );
    let t = text(&page);
    assert_has(
        &t,
        &["leaves on 1 June", "1 June: first hourly crossing"],
        &["Updated", "2 May 2024"],
    );
}

#[test]
fn underscored_boilerplate_names_count_like_hyphenated_ones() {
    let para =
        "<p>The harbour festival returns this weekend with tall ships, a fish market on the \
        quay and free boat trips for children, weather permitting, from ten until six.</p>";
    let page = format!(
        "<html><body><article><h1>Harbour festival</h1>{para}\
         <div class='sign_up_box'><p>Join the club to hear about every event before anyone else does.</p></div>{para}\
         <div class='entry_meta_line'>Filed in Events by the desk</div>{para}</article></body></html>"
    );
    let t = text(&page);
    assert_has(&t, &["tall ships"], &["Join the club", "Filed in Events"]);
}

#[test]
fn a_related_posts_list_with_excerpts_is_not_content_for_its_post_word() {
    // "related_post" holds the word "post", which alone would let a long enough box pass as
    // content; other posts' excerpts are not this page's content.
    let para = "<p>The river path between the two bridges is open again, after the council \
        repaired the flood damage and added a railing along the steepest part of the bank.</p>";
    let item = |n: u32| {
        format!(
            "<li><a href='/p/{n}'>Another walk along the water, number {n}</a><br><small>A \
         long excerpt of another story, with its own sentences, about benches, birds, ducks and \
         the people who walk their dogs there every morning before work, whatever the weather \
         and whatever the season, story {n}.</small></li>"
        )
    };
    let items: String = (1..=3).map(item).collect();
    let page = format!(
        "<html><body><div class='post'><h1>River path</h1><div class='entry'>{para}{para}\
         <ul class='related_post wp_rp'>{items}</ul></div></div></body></html>"
    );
    let t = text(&page);
    assert_has(&t, &["river path between the two bridges"], &["benches, birds", "Another walk"]);
}

#[test]
fn a_short_pitch_after_the_article_body_goes_even_with_a_full_stop() {
    // One or two sentences after the body ("Enjoyed this? ...") are a pitch, not the
    // article's prose: prose after the body must be a real paragraph.
    let para = "<p>The tram line to the university opens in September, two years after work \
        began, with a stop every four hundred metres and a tram every six minutes at peak times.</p>";
    let page = format!(
        "<html><body><div class='page'><article><h1>New tram line</h1><div class='body'>{para}{para}{para}</div>\
         <div class='box'><p>Enjoyed this story? Our reporters cover the city every day, and a \
         subscription keeps them on the street, at the council meetings and in the courts. Join \
         us today, and read every story without limits.</p></div></article></div></body></html>"
    );
    let t = text(&page);
    assert_has(&t, &["tram line to the university"], &["Enjoyed this story"]);
}

#[test]
fn a_content_word_beside_a_related_name_does_not_save_the_box() {
    // "box main-box related-box": the related box of a theme whose boxes are all "main-box".
    let para = "<p>The old cinema on the square reopens as a community hall, with a cafe, a small \
        stage and a room for the chess club, after two years of repairs paid for by its members.</p>";
    let teaser = |n: u32| {
        format!(
            "<p><a href='/s/{n}'>Another story {n}</a> A longer excerpt of that other story, \
         with sentences about a market, a parade and the weather, so that the box is long.</p>"
        )
    };
    let teasers: String = (1..=4).map(teaser).collect();
    let page = format!(
        "<html><body><div class='main-box'><h1>Cinema reopens</h1>{para}{para}{para}</div>\
         <div class='main-box vce-related-box'><h3>Also interesting</h3>{teasers}</div></body></html>"
    );
    let t = text(&page);
    assert_has(&t, &["old cinema on the square"], &["Also interesting", "a parade"]);
}

#[test]
fn boilerplate_lines_inside_the_body_go_by_their_words() {
    // The site puts its dateline, a photo credit, a "more on this" box, a call to follow it
    // and an advertising label in plain paragraphs of the article's own container, where no
    // class name gives them away. The article's text around them stays, including a sentence
    // that mentions a social network and a section after the related stories.
    let para = "<p>The valley's new cycle path links the three villages along the old railway \
        line, with gentle slopes, two rest areas and a bridge over the river at the halfway mark.</p>";
    let page = format!(
        "<html><body><div class='wrap'><h1>Cycle path opens</h1><div class='text'>\
         <p>Verkehr 12.05.2024, 08:30 Uhr</p>{para}\
         <figure><img src='/bridge.jpg'><p>The bridge at the halfway mark. (Photo: Jane Doe)</p></figure>{para}\
         <p>The mayor announced the opening on Facebook and Instagram on Sunday.</p>{para}\
         <h3>More on this</h3><ul><li><a href='/a'>Cycling in the hills: five routes to try</a></li>\
         <li><a href='/b'>Why the railway closed in 1968</a></li></ul>\
         <h3>Getting there</h3><p>Trains stop at the first village every hour.</p>{para}\
         <p>Advertisement</p>{para}\
         <p>Follow us on Instagram and Facebook for more stories from the valley!</p></div></div></body></html>"
    );
    let t = text(&page);
    assert_has(
        &t,
        &["gentle slopes", "on Facebook and Instagram on Sunday", "Getting there", "every hour"],
        &[
            "12.05.2024",
            "Jane Doe",
            "More on this",
            "five routes",
            "railway closed",
            "Advertisement",
            "Follow us",
        ],
    );
    // The picture stays in the Markdown though its caption's credit went.
    let md = markdown(&page);
    assert!(md.contains("bridge.jpg"), "{md}");
}
