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
        failed_logins -> Integer,
        last_failed_login_at -> Nullable<Timestamp>,
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
        scheduled_at -> Nullable<Timestamp>,
        category -> Text,
        version -> Integer,
        featured_on_home -> Bool,
    }
}

diesel::table! {
    guide_revisions (id) {
        id -> Integer,
        guide_id -> Integer,
        version -> Integer,
        title -> Text,
        slug -> Text,
        summary -> Text,
        body_markdown -> Text,
        tags -> Text,
        category -> Text,
        author_id -> Nullable<Integer>,
        author_label -> Text,
        note -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    redirects (from_path) {
        from_path -> Text,
        guide_id -> Integer,
    }
}

diesel::table! {
    featured_stories (guide_id, story_id) {
        guide_id -> Integer,
        story_id -> Integer,
        position -> Integer,
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
        receipt_hash -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        moderator_message -> Nullable<Text>,
        pii_flags -> Text,
        edited_by_staff -> Bool,
        claimed_by -> Nullable<Integer>,
        claimed_until -> Nullable<Timestamp>,
        minhash -> Nullable<Binary>,
        facts_set -> Bool,
    }
}

diesel::table! {
    daily_keys (day) {
        day -> Text,
        key -> Text,
    }
}

diesel::table! {
    story_bands (story_id, band) {
        story_id -> Integer,
        band -> Integer,
        bucket -> BigInt,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    login_throttle (key_hash) {
        key_hash -> Text,
        failures -> Integer,
        last_failure -> Timestamp,
    }
}

diesel::table! {
    moderator_alerts (id) {
        id -> Integer,
        arrivals -> Integer,
        alerted_at -> Nullable<Timestamp>,
        reminded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mod_actions (id) {
        id -> Integer,
        kind -> Text,
        story_id -> Nullable<Integer>,
        story_public_id -> Text,
        actor_id -> Nullable<Integer>,
        actor_label -> Text,
        reason -> Nullable<Text>,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        field -> Nullable<Text>,
        subject -> Nullable<Text>,
    }
}

diesel::table! {
    staff_links (id) {
        id -> Integer,
        token_hash -> Text,
        purpose -> Text,
        user_id -> Nullable<Integer>,
        email -> Nullable<Text>,
        display_name -> Nullable<Text>,
        role -> Nullable<Text>,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    reports (id) {
        id -> Integer,
        story_id -> Integer,
        reason -> Text,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        reader_hash -> Nullable<Text>,
        unfounded -> Bool,
    }
}

diesel::table! {
    outbox (id) {
        id -> Integer,
        topic -> Text,
        payload -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> Integer,
        email -> Text,
        want_guides -> Bool,
        want_stories -> Bool,
        tag -> Nullable<Text>,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        digest_until -> Nullable<Timestamp>,
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

diesel::table! {
    erasures (id) {
        id -> Integer,
        holds -> Text,
        story_public_id -> Nullable<Text>,
        xid -> Nullable<BigInt>,
    }
}

diesel::joinable!(guides -> users (author_id));
diesel::joinable!(guide_tags -> guides (guide_id));
diesel::joinable!(guide_tags -> tags (tag_id));
diesel::joinable!(story_tags -> stories (story_id));
diesel::joinable!(story_tags -> tags (tag_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(guide_revisions -> guides (guide_id));
diesel::joinable!(redirects -> guides (guide_id));
diesel::joinable!(featured_stories -> guides (guide_id));
diesel::joinable!(featured_stories -> stories (story_id));
diesel::joinable!(reports -> stories (story_id));
diesel::joinable!(story_bands -> stories (story_id));

diesel::table! {
    synonym_groups (id) {
        id -> Integer,
        words -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    users,
    guides,
    stories,
    tags,
    guide_tags,
    story_tags,
    sessions,
    login_throttle,
    mod_actions,
    reports,
    outbox,
    guide_revisions,
    redirects,
    featured_stories,
    subscriptions,
    erasures,
    story_bands,
    daily_keys,
    moderator_alerts,
    staff_links,
    synonym_groups,
);
