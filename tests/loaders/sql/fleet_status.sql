-- statement 1
select i.ord, c.number, c.status::text as status, c.manufacturer_id, c.model_id, c.hardware_version, c.firmware_version, c.device_type::text as device_type, c.smets_chts_version, c.gbcs_version, c.image_hash, c.cpl_version, c.listed_on, c.removed_on, m.model_id as m_model_id, m.name as m_name, m.device_type::text as m_device_type, f.manufacturer_id as f_manufacturer_id, f.name as f_name, f.website as f_website from unnest($1::text[], $2::text[], $3::text[], $4::text[]) with ordinality as i(mfr, model, hw, fw, ord) left join manufacturers f on f.manufacturer_id = i.mfr left join device_models m on m.manufacturer_id = i.mfr and m.model_id = i.model left join cpl_entries c on c.manufacturer_id = i.mfr and c.model_id = i.model  and c.hardware_version = i.hw and c.firmware_version = i.fw;

-- statement 2
select r.id, r.manufacturer_id, r.model_id, r.hardware_version, r.firmware_version, r.image_hash, r.status::text, r.cpl_entry_number, c.status::text as cpl_status, r.release_date, r.release_notes, r.urgency::text, r.advisories, coalesce((select array_agg(u.from_firmware_version order by u.from_firmware_version)   from release_upgradable_from u where u.release_id = r.id), '{}') as upgradable_from, r.submitted_by, r.submitted_org, r.submitted_at, r.published_at, r.published_by, r.withdrawn_at, r.withdrawn_reason from firmware_releases r left join cpl_entries c on c.number = r.cpl_entry_number where (r.manufacturer_id, r.model_id, r.hardware_version) in (select * from unnest($1::text[], $2::text[], $3::text[])) order by r.id;

-- statement 3
select manufacturer_id, role::text, name, email, phone from contacts where manufacturer_id = any($1::text[]) and retired_at is null order by manufacturer_id, position, id;

