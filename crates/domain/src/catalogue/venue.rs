//! Texts of the venue pages.

catalogue! {
    Venue {
        Name { vi: "Tên địa điểm", en: "Name" },
        Commune { vi: "Xã, phường", en: "Commune" },
        Latitude { vi: "Vĩ độ", en: "Latitude" },
        Longitude { vi: "Kinh độ", en: "Longitude" },
        Operator { vi: "Đơn vị vận hành", en: "Operator" },
        Register { vi: "Đăng ký địa điểm", en: "Register" },
        Venues { vi: "Cơ sở, địa điểm", en: "Venues" },
        YourVenues { vi: "Địa điểm của bạn", en: "Your venues" },
        NoVenuesYet { vi: "Chưa có địa điểm.", en: "No venues yet." },
        PrintQRPoster { vi: "In áp phích QR", en: "Print QR poster" },
        EntriesPerHour { vi: "Lượt vào theo giờ", en: "Entries per hour" },
        RegisterAVenue { vi: "Đăng ký địa điểm mới", en: "Register a venue" },
        EntriesPerHourOn { vi: "Lượt vào theo giờ, ngày", en: "Entries per hour on" },
        Hour { vi: "Giờ", en: "Hour" },
        Entries { vi: "Lượt vào", en: "Entries" },
        NoEntries { vi: "Không có lượt vào nào.", en: "No entries." },
        UseMyLocation { vi: "Dùng vị trí hiện tại của tôi", en: "Use my location" },
    }
}
