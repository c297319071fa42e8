// The shared schema of both backends; migrations/sqlite and migrations/postgres must produce it.

diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    guides (id) {
        id -> Integer,
        slug -> Text,
        title -> Text,
        summary -> Text,
        body_markdown -> Text,
        body_html -> Text,
        toc_json -> Text,
        status -> Text,
        author_id -> Nullable<Integer>,
        author_name -> Text,
        published_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    stories (id) {
        id -> Integer,
        public_id -> Text,
        title -> Text,
        body_markdown -> Text,
        body_html -> Text,
        excerpt -> Text,
        pen_name -> Text,
        length_months -> Integer,
        how_met -> Text,
        continuing -> Bool,
        rules -> Text,
        status -> Text,
        submitted_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    tags (id) {
        id -> Integer,
        name -> Text,
    }
}

diesel::table! {
    guide_tags (guide_id, tag_id) {
        guide_id -> Integer,
        tag_id -> Integer,
    }
}

diesel::table! {
    story_tags (story_id, tag_id) {
        story_id -> Integer,
        tag_id -> Integer,
    }
}

diesel::joinable!(guides -> users (author_id));
diesel::joinable!(guide_tags -> guides (guide_id));
diesel::joinable!(guide_tags -> tags (tag_id));
diesel::joinable!(story_tags -> stories (story_id));
diesel::joinable!(story_tags -> tags (tag_id));

diesel::allow_tables_to_appear_in_same_query!(users, guides, stories, tags, guide_tags, story_tags);
