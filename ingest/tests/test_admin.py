import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from photos import services
from photos.models import City, Photo
from tests.factories import UserFactory, attribute_predictions
from users import services as user_services

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/photos/photo/import/"


@pytest.fixture
def admin_client(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_photo_changelist_shows_thumbnails_and_top_cities(admin_client, published_photos):
    published_photos(2, cities=("kyoto",))
    page = admin_client.get("/admin/photos/photo/?status__exact=published").content.decode()
    assert page.count('alt="Kyoto"') == 2
    assert "kyoto 0.60" in page
    assert "Import many photos" in page
    search = admin_client.get("/admin/photos/photo/?q=kyoto")
    assert search.status_code == 200


def test_bulk_import_of_pasted_lines(
    admin_client, label_prior, image_server, django_capture_on_commit_callbacks
):
    from tests.pictures import jpeg, textured

    one = image_server.image("/1.jpg", jpeg(textured(1)))
    two = image_server.image("/2.jpg", jpeg(textured(2)))
    broken = image_server.image("/3.jpg", b"not an image")
    lines = f"url,city\n{one},Paris\n{two},rome\n{broken},rome\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(IMPORT_URL, {"lines": lines})
    assert response.status_code == 302
    assert Photo.objects.filter(status=Photo.Status.PUBLISHED).count() == 2
    batch_page = admin_client.get(response["Location"]).content.decode()
    assert "100 % done: 2 published, 1 rejected" in batch_page
    rejected = Photo.objects.get(status=Photo.Status.REJECTED)
    photo_page = admin_client.get(f"/admin/photos/photo/{rejected.pk}/change/").content.decode()
    assert "not an image" in photo_page and "<td>validate</td>" in photo_page


def test_bulk_import_shows_each_bad_line_and_imports_nothing(admin_client, label_prior):
    lines = "https://x.example/1.jpg,Paris\nhttps://x.example/2.jpg,Gotham\nnope,rome\n"
    response = admin_client.post(IMPORT_URL, {"lines": lines})
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 of 3 lines have errors; nothing was imported." in page
    assert "Line 2: Unknown city &#x27;Gotham&#x27;" in page
    assert "Line 3: Only http:// and https:// URLs can be fetched." in page
    assert not Photo.objects.exists()


def test_bulk_import_from_a_csv_file(admin_client, label_prior):
    upload = SimpleUploadedFile("photos.csv", b"url,city\nhttps://x.example/9.jpg,tokyo\n")
    response = admin_client.post(IMPORT_URL, {"csv_file": upload})
    assert response.status_code == 302
    assert Photo.objects.get().city.slug == "tokyo"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Paste some lines or choose a CSV file, an image or a zip."),
        ({"csv_file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00bad")}, "not UTF-8"),
    ],
)
def test_bulk_import_form_errors(admin_client, data, message):
    response = admin_client.post(IMPORT_URL, data)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_admin_add_photo_without_image_is_a_form_error(admin_client):
    response = admin_client.post("/admin/photos/photo/add/", {"image_url": "", "city": ""})
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert not Photo.objects.exists()


def test_profiles_and_swipes_are_read_only_in_the_admin(admin_client, published_photos):
    guest, _ = user_services.guest_create()
    (photo,) = published_photos(1)
    user_services.swipe_record(user=guest, photo_id=photo.pk, direction="right")
    assert admin_client.get("/admin/users/profile/").status_code == 200
    assert admin_client.get("/admin/users/swipe/").status_code == 200
    assert admin_client.get("/admin/users/swipe/add/").status_code == 403
    profile_page = admin_client.get(f"/admin/users/profile/{guest.profile.pk}/change/")
    assert profile_page.status_code == 200 and "1. Paris" in profile_page.content.decode()


def test_admin_add_photo_with_a_non_http_url_is_a_form_error(admin_client):
    response = admin_client.post(
        "/admin/photos/photo/add/", {"image_url": "ftp://x.example/a.jpg", "city": ""}
    )
    assert response.status_code == 200
    assert "Only http:// and https:// URLs can be fetched." in response.content.decode()
    assert not Photo.objects.exists()


def test_published_photo_keeps_its_image_and_label(admin_client, published_photos):
    (photo,) = published_photos(1)
    page = admin_client.get(f"/admin/photos/photo/{photo.pk}/change/").content.decode()
    assert 'name="image_url"' not in page and 'name="city"' not in page


def test_reject_action_needs_change_permission(client, published_photos):
    from django.contrib.auth.models import Permission

    (photo,) = published_photos(1)
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_photo"))
    client.force_login(viewer)
    client.post("/admin/photos/photo/", {"action": "reject_photos", "_selected_action": [photo.pk]})
    photo.refresh_from_db()
    assert photo.status == Photo.Status.PUBLISHED


def test_admin_imports_a_zip_and_a_single_image(
    admin_client, label_prior, django_capture_on_commit_callbacks
):
    from ingest.tests.test_pipeline import _zip
    from tests.pictures import jpeg, textured

    archive = SimpleUploadedFile(
        "set.zip", _zip({"kyoto/a.jpg": jpeg(textured(71)), "b.jpg": jpeg(textured(72))}).read()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(IMPORT_URL, {"upload": archive, "city": "Osaka"})
    assert response.status_code == 302, response.content[:2000]
    assert sorted(Photo.objects.values_list("city__slug", flat=True)) == ["kyoto", "osaka"]
    assert Photo.objects.filter(status=Photo.Status.PUBLISHED).count() == 2
    single = SimpleUploadedFile("c.jpg", jpeg(textured(73)))
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(IMPORT_URL, {"upload": single, "city": "kyoto"})
    assert Photo.objects.filter(status=Photo.Status.PUBLISHED).count() == 3
    bad = admin_client.post(
        IMPORT_URL, {"upload": SimpleUploadedFile("x.zip", b"nope"), "city": ""}
    )
    assert bad.status_code == 200 and "Not a readable zip archive" in bad.content.decode()


def test_a_photo_added_in_the_admin_goes_through_the_pipeline(
    admin_client, label_prior, image_server, django_capture_on_commit_callbacks
):
    from tests.pictures import jpeg, textured

    upload = SimpleUploadedFile("mine.jpg", jpeg(textured(91)), "image/jpeg")
    url = image_server.image("/remote.jpg", jpeg(textured(92)))
    with django_capture_on_commit_callbacks(execute=True):
        for data in ({"image": upload, "city": ""}, {"image_url": url, "city": ""}):
            data["city"] = City.objects.get(slug="paris").pk
            response = admin_client.post("/admin/photos/photo/add/", data)
            assert response.status_code == 302, response.content[:500]
    uploaded, fetched = Photo.objects.order_by("pk")
    for photo in (uploaded, fetched):
        assert photo.status == Photo.Status.PUBLISHED and photo.pipeline_step == ""
        assert set(photo.analysis) == {
            "fetch", "validate", "quality", "dedupe", "score", "score_attributes",
            "score_imagenet", "publish",
        }  # fmt: skip
        assert photo.content_sha256 and photo.perceptual_hash and not photo.incoming
    assert "mine" not in uploaded.image.name


def test_the_reject_action_counts_what_it_rejected(admin_client, published_photos):
    photos = published_photos(3)
    services.photo_reject(photo_id=photos[0].pk, reason="earlier")
    response = admin_client.post(
        "/admin/photos/photo/",
        {"action": "reject_photos", "_selected_action": [p.pk for p in photos]},
        follow=True,
    )
    assert "Rejected 2 photos." in response.content.decode()
    assert set(Photo.objects.values_list("status", flat=True)) == {Photo.Status.REJECTED}


def test_the_pipeline_step_filter_names_every_step_and_the_end(admin_client, published_photos):
    done = published_photos(2)
    waiting = done[1]
    waiting.pipeline_step = "score"
    waiting.save(update_fields=["pipeline_step"])
    page = admin_client.get("/admin/photos/photo/").content.decode()
    assert 'href="?pipeline_step=score"' in page and "waiting for dedupe" in page
    assert 'href="?pipeline_step="' not in page  # no link without a name
    over = admin_client.get("/admin/photos/photo/?pipeline_step=over").context["cl"].result_list
    assert [photo.pk for photo in over] == [done[0].pk]
    scoring = admin_client.get("/admin/photos/photo/?pipeline_step=score").context["cl"]
    assert [photo.pk for photo in scoring.result_list] == [waiting.pk]


def test_a_photos_page_shows_what_every_model_kind_said(admin_client, published_photos):
    described, plain = published_photos(2)
    attribute_predictions({described.pk: {"waterfront": 0.93, "fog": 0.12}})
    page = admin_client.get(f"/admin/photos/photo/{described.pk}/change/").content.decode()
    assert "waterfront 0.93, fog 0.12" in page
    assert "no active imagenet model has described it yet" in page
    page = admin_client.get(f"/admin/photos/photo/{plain.pk}/change/").content.decode()
    assert "no active attributes model has described it yet" in page


def _batch_with(statuses_and_reasons, published=(), **batch_values):
    from photos import records
    from photos.models import ImportBatch

    batch = records.batch_create(
        source=ImportBatch.Source.ZIP,
        label="trip.zip",
        total=len(statuses_and_reasons) + len(published),
    )
    Photo.objects.filter(pk__in=[photo.pk for photo in published]).update(batch=batch)
    ImportBatch.objects.filter(pk=batch.pk).update(**batch_values)
    for status, reason in statuses_and_reasons:
        Photo.objects.create(
            batch=batch, status=status, status_reason=reason, image_url="http://127.0.0.1:9/x.jpg"
        )
    return batch


def test_a_batch_page_groups_the_reasons_and_lists_skipped_entries(admin_client, published_photos):
    batch = _batch_with(
        [
            (Photo.Status.REJECTED, "Quality gate: too dark (brightness 3.1 < 16.4)."),
            (
                Photo.Status.REJECTED,
                "Quality gate: too dark (brightness 9 < 16.4); too flat (contrast 2.0 < 8).",
            ),
            (Photo.Status.DUPLICATE, "Duplicate of photo #12."),
        ],
        published=published_photos(1),
        skipped=[{"entry": "notes.txt", "reason": "not an image file name"}],
    )
    page = admin_client.get(f"/admin/photos/importbatch/{batch.pk}/change/").content.decode()
    assert "<li>2 too dark</li>" in page and "<li>1 too flat</li>" in page
    assert "<li>1 Duplicate of photo</li>" in page
    assert "notes.txt: not an image file name" in page
    assert "1 published, 1 duplicate, 2 rejected" in page
    assert (
        f'href="/admin/photos/photo/?batch__id__exact={batch.pk}&amp;status__exact=rejected"'
        in page
    )
    assert "Failed: nothing imported" not in page
    listing = admin_client.get("/admin/photos/importbatch/").content.decode()
    assert 'class="outcome-rejected" style="width:50.00%"' in listing and "100 % done" in listing


def test_a_batch_whose_photos_were_all_rejected_never_looks_like_a_success(
    admin_client, label_prior
):
    batch = _batch_with(
        [(Photo.Status.REJECTED, "Quality gate: too dark (brightness 1 < 16).")] * 3
    )
    for url in ("/admin/photos/importbatch/", f"/admin/photos/importbatch/{batch.pk}/change/"):
        page = admin_client.get(url).content.decode()
        assert "Failed: nothing imported" in page and "outcome-failed-batch" in page
        assert "failed: 3 rejected" in page


def test_a_text_file_in_a_zip_is_listed_as_skipped(
    admin_client, label_prior, django_capture_on_commit_callbacks
):
    from ingest.tests.test_pipeline import _zip
    from photos.models import ImportBatch
    from tests.pictures import jpeg, textured

    archive = SimpleUploadedFile(
        "set.zip", _zip({"a.jpg": jpeg(textured(75)), "notes.txt": b"hello"}).read()
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(IMPORT_URL, {"upload": archive, "city": "Osaka"})
    batch = ImportBatch.objects.get()
    assert [entry["entry"] for entry in batch.skipped] == ["notes.txt"]
    page = admin_client.get(f"/admin/photos/importbatch/{batch.pk}/change/").content.decode()
    assert "notes.txt: not an image file name" in page


def test_a_refused_photos_url_is_text_never_an_image_or_a_link(admin_client, label_prior):
    refused = "http://127.0.0.1:9/secret.jpg"
    batch = _batch_with([(Photo.Status.REJECTED, f"The address {refused} is not public.")])
    Photo.objects.update(image_url=refused)
    photo = Photo.objects.get()
    for url in (
        f"/admin/photos/photo/{photo.pk}/change/",
        "/admin/photos/photo/",
        f"/admin/photos/importbatch/{batch.pk}/change/",
        "/admin/photos/importbatch/",
    ):
        page = admin_client.get(url).content.decode()
        assert f'src="{refused}' not in page and f'href="{refused}' not in page, url
        assert "127.0.0.1:9" not in "".join(
            part for part in page.split('"') if part.startswith(("http://", "https://"))
        ), url
    page = admin_client.get(f"/admin/photos/photo/{photo.pk}/change/").content.decode()
    assert refused in page  # shown, as text


def test_the_jobs_page_shows_counts_and_pauses_without_a_script(admin_client, label_prior):
    from ingest.jobs import ingestion_paused
    from tests.factories import pending_photo

    pending_photo()
    page = admin_client.get("/admin/").content.decode()
    assert 'href="/admin/ingest/pipelineswitch/"' in page  # the index and the header link it
    page = admin_client.get("/admin/ingest/pipelineswitch/").content.decode()
    assert '<tr data-step="fetch"><th scope="row">fetch</th><td>1</td>' in page
    assert "js/admin-jobs.js" in page and "Pause ingestion" in page
    response = admin_client.post("/admin/ingest/pipelineswitch/", {"action": "pause"}, follow=True)
    assert ingestion_paused() and "Resume ingestion" in response.content.decode()
    admin_client.post("/admin/ingest/pipelineswitch/", {"action": "resume"})
    assert not ingestion_paused()


def test_the_jobs_page_is_for_staff_with_permission(client, label_prior):
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/admin/ingest/pipelineswitch/").status_code == 403
    client.force_login(UserFactory())
    assert client.get("/admin/ingest/pipelineswitch/").status_code == 302  # to the log-in
