*** Settings ***
Documentation       Firmware Management (steps 17-21): firmware updates and diagnostics, served and
...                 received by the lab's own file server, so each step is checked twice: in the
...                 station's status notifications and in what crossed the wire to the server.
...                 A station whose firmware is not updated over OCPP, or that cannot upload
...                 diagnostics (dut.capabilities), gets N/A for those steps.
Library             hil.robot.HilLab
Test Tags           profile:FirmwareManagement

*** Variables ***
${RETRIEVE_IN}      2    # seconds from now to the retrieveDate of the good image (step 19)

*** Test Cases ***
Remote Firmware update - Download failed
    [Documentation]    UpdateFirmware with a location that never answers and retries 0:
    ...    Downloading, then DownloadFailed, nothing else; the old firmware stays (after a
    ...    restart the station boots with it) and every connector is Available.
    [Tags]    step:17    requires:firmware_update
    Update Firmware    location=timeout    retries=0
    Firmware Status Should Go Through    Downloading    DownloadFailed
    Station Should Still Run Its Firmware

Remote Firmware update - Installation failed
    [Documentation]    UpdateFirmware with a corrupt image (its checksum does not match): the
    ...    station downloads it whole, then reports Downloading, Downloaded, Installing,
    ...    InstallationFailed in that order; the old firmware stays.
    [Tags]    step:18    requires:firmware_update
    Update Firmware    location=corrupt    retries=0
    Firmware Status Should Go Through    Downloading    Downloaded    Installing    InstallationFailed
    Firmware Image Should Have Been Downloaded Whole
    Station Should Still Run Its Firmware

Remote Firmware update - Download & install
    [Documentation]    UpdateFirmware with a good image and a retrieveDate in the future:
    ...    nothing before retrieveDate; Downloading, Downloaded, Installing, then a reboot with
    ...    a BootNotification naming the new firmware version, Accepted, and only then Installed.
    [Tags]    step:19    requires:firmware_update
    ${version}=    Test Firmware Version
    Update Firmware    location=good    retrieve_in=${RETRIEVE_IN}
    Firmware Status Should Go Through    Downloading    Downloaded    Installing    Installed
    Firmware Download Should Not Start Before Retrieve Date
    Firmware Image Should Have Been Downloaded Whole
    Station Should Boot With Firmware    ${version}

Remote get diagnostics report
    [Documentation]    GetDiagnostics (2.0.1 GetLog) for the lab's FTP upload directory: the
    ...    station names a file, reports Uploading then Uploaded, and that file is on the lab's
    ...    server, whole (path, size and SHA-256 are logged; what the file is, a remark when it
    ...    is not a readable archive).
    [Tags]    step:20    requires:diagnostics
    Request Diagnostics    location=lab
    Diagnostics File Should Be Named
    Diagnostics Status Should Go Through    Uploading    Uploaded
    Diagnostics File Should Be On The Lab Server

Remote get diagnostics - fail
    [Documentation]    GetDiagnostics (2.0.1 GetLog) where the upload cannot succeed ends in
    ...    UploadFailed (2.0.1 UploadFailure) each time, with nothing stored on the lab's
    ...    server: a location that refuses the
    ...    connection, an FTP server that refuses the login (530) and one whose disk is full (452).
    [Tags]    step:21    requires:diagnostics
    Request Diagnostics    location=unreachable
    Diagnostics Upload Should Fail
    Request Diagnostics    location=wrong_login
    Diagnostics Upload Should Fail
    Request Diagnostics    location=full_disk
    Diagnostics Upload Should Fail
