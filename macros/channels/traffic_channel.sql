{% macro traffic_channel(row) -%}
    {#-
        SQL: the acquisition channel of one session, by the rules of Google
        Analytics 4's default channel group (README, "For analysts", channels),
        checked in GA4's order; the first that holds names the channel. `row` is a
        relation alias with these columns:
        - has_campaign: whether any of utm_source, utm_medium, utm_campaign is set;
        - channel_source: lower-case utm_source when has_campaign, else the
          referrer's host, null when there is none or it is internal;
        - channel_medium, channel_campaign: lower-case utm_medium, utm_campaign;
        - is_search, is_social, is_video, is_shopping, is_email: whether
          channel_source matches a row of that category in seeds/referrer_domains.csv.
        Without campaign fields: no source is Direct; a categorized referrer its
        organic channel (shopping, then social, video, search, email when a domain
        has several categories); any other referrer Referral.
    -#}
    {%- set paid = "'^(.*cp.*|ppc|retargeting|paid.*)$'" -%}
    {%- set shop = "'^(.*(([^a-df-z]|^)shop|shopping).*)$'" -%}
    {%- set source = "coalesce(" ~ row ~ ".channel_source, '')" -%}
    {%- set medium = "coalesce(" ~ row ~ ".channel_medium, '')" -%}
    {%- set campaign = "coalesce(" ~ row ~ ".channel_campaign, '')" -%}
    {%- set emails = "('email', 'e-mail', 'e_mail', 'e mail')" -%}
    {%- set socials = (
        "('social', 'social-network', 'social-media', 'sm', 'social network', "
        ~ "'social media')"
    ) -%}
    case
        when not {{ row }}.has_campaign
            then
                case
                    when {{ row }}.channel_source is null then 'Direct'
                    when {{ row }}.is_shopping then 'Organic Shopping'
                    when {{ row }}.is_social then 'Organic Social'
                    when {{ row }}.is_video then 'Organic Video'
                    when {{ row }}.is_search then 'Organic Search'
                    when {{ row }}.is_email then 'Email'
                    else 'Referral'
                end
        when
            {{ source }} = '(direct)' and {{ medium }} in ('', '(none)', '(not set)')
            then 'Direct'
        when {{ campaign }} like '%cross-network%' then 'Cross-network'
        when
            ({{ row }}.is_shopping or {{ campaign }} ~ {{ shop }})
            and {{ medium }} ~ {{ paid }}
            then 'Paid Shopping'
        when {{ row }}.is_search and {{ medium }} ~ {{ paid }} then 'Paid Search'
        when {{ row }}.is_social and {{ medium }} ~ {{ paid }} then 'Paid Social'
        when {{ row }}.is_video and {{ medium }} ~ {{ paid }} then 'Paid Video'
        when
            {{ medium }} in ('display', 'banner', 'expandable', 'interstitial', 'cpm')
            then 'Display'
        when {{ medium }} ~ {{ paid }} then 'Paid Other'
        when {{ row }}.is_shopping or {{ campaign }} ~ {{ shop }} then 'Organic Shopping'
        when {{ row }}.is_social or {{ medium }} in {{ socials }} then 'Organic Social'
        when {{ row }}.is_video or {{ medium }} like '%video%' then 'Organic Video'
        when {{ row }}.is_search or {{ medium }} = 'organic' then 'Organic Search'
        when {{ medium }} in ('referral', 'app', 'link') then 'Referral'
        when
            {{ row }}.is_email or {{ source }} in {{ emails }} or {{ medium }} in {{ emails }}
            then 'Email'
        when {{ medium }} = 'affiliate' then 'Affiliates'
        when {{ medium }} = 'audio' then 'Audio'
        when {{ source }} = 'sms' or {{ medium }} = 'sms' then 'SMS'
        when
            {{ medium }} like '%push'
            or {{ medium }} like '%mobile%'
            or {{ medium }} like '%notification%'
            then 'Mobile Push Notifications'
        else 'Unassigned'
    end
{%- endmacro %}
