-- Up Migration
-- A shipment's corridor (the polygon `corridor_km` either side of its planned route, drawn by GET …/track), built
-- once in a worker thread when the shipment is registered or its corridor width changes, instead of on every track
-- request on the event loop. {"corridorKm": <the width it was built for>, "geometry": <GeoJSON Polygon or
-- MultiPolygon>}; NULL (shipments registered before this migration) or built for another width: built on first use.
ALTER TABLE shipments ADD COLUMN IF NOT EXISTS corridor jsonb;
