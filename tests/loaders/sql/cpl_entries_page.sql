-- statement 1
select manufacturer_id, model_id, name, device_type::text from device_models where (manufacturer_id, model_id) in (select * from unnest($1::text[], $2::text[]));

-- statement 2
select manufacturer_id, name, website from manufacturers where manufacturer_id = any($1::text[]);

-- statement 3
select manufacturer_id, role::text, name, email, phone from contacts where manufacturer_id = any($1::text[]) and retired_at is null order by manufacturer_id, position, id;

-- statement 4
select number, status::text, manufacturer_id, model_id, hardware_version, firmware_version, device_type::text, smets_chts_version, gbcs_version, image_hash, cpl_version, listed_on, removed_on from cpl_entries where ($1::int is null or number > $1) and ($2::cpl_status is null or status = $2::cpl_status) and ($3::text is null or manufacturer_id = $3) order by number limit $4;

-- statement 5
select r.id, r.manufacturer_id, r.model_id, r.hardware_version, r.firmware_version, r.image_hash, r.status::text, r.cpl_entry_number, c.status::text as cpl_status, r.release_date, r.release_notes, r.urgency::text, r.advisories, coalesce((select array_agg(u.from_firmware_version order by u.from_firmware_version)   from release_upgradable_from u where u.release_id = r.id), '{}') as upgradable_from, r.submitted_by, r.submitted_org, r.submitted_at, r.published_at, r.published_by, r.withdrawn_at, r.withdrawn_reason from firmware_releases r left join cpl_entries c on c.number = r.cpl_entry_number where (r.manufacturer_id, r.model_id, r.hardware_version) in (select * from unnest($1::text[], $2::text[], $3::text[])) order by r.id;

-- statement 6
select r.id, r.manufacturer_id, r.model_id, r.hardware_version, r.firmware_version, r.image_hash, r.status::text, r.cpl_entry_number, c.status::text as cpl_status, r.release_date, r.release_notes, r.urgency::text, r.advisories, coalesce((select array_agg(u.from_firmware_version order by u.from_firmware_version)   from release_upgradable_from u where u.release_id = r.id), '{}') as upgradable_from, r.submitted_by, r.submitted_org, r.submitted_at, r.published_at, r.published_by, r.withdrawn_at, r.withdrawn_reason from firmware_releases r left join cpl_entries c on c.number = r.cpl_entry_number where (r.manufacturer_id, r.model_id, r.hardware_version, r.firmware_version) in (select * from unnest($1::text[], $2::text[], $3::text[], $4::text[])) order by r.id;

