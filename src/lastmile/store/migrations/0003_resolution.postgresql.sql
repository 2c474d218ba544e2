CREATE INDEX entity_members_entity ON entity_members (entity_id);
CREATE INDEX entity_members_record ON entity_members (record_type, record_id);
